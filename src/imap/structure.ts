/**
 * Reading a message's BODYSTRUCTURE: which part holds the text body, which
 * the HTML body, and which are attachments. Attachments are described from
 * the structure alone; their content is never downloaded.
 *
 * @module
 */

import type { AttachmentInfo } from "../stream/entry.ts";
import { decodeMimeWords } from "./mime_words.ts";

/** The BODYSTRUCTURE fields used here (a subset of imapflow's `MessageStructureObject`). */
export interface BodyNode {
  /** Part number ("1", "1.2"); absent on the root of a multipart or single-part message. */
  part?: string;
  /** `type/subtype`, lower case. */
  type: string;
  /** Content-Type parameters (e.g. `charset`, `name`). */
  parameters?: Record<string, string>;
  /** Content-Transfer-Encoding. */
  encoding?: string;
  /** Encoded size in bytes. */
  size?: number;
  /** Content-Disposition (`inline`, `attachment`). */
  disposition?: string;
  /** Content-Disposition parameters (e.g. `filename`). */
  dispositionParameters?: Record<string, string>;
  /** Parts of a multipart. */
  childNodes?: BodyNode[];
}

/** A text part to download. */
export interface TextPartRef {
  /** Part number for `BODY.PEEK[<key>]`. */
  readonly key: string;
  /** Content-Transfer-Encoding, lower case. */
  readonly encoding: string | null;
  /** Charset parameter, when given. */
  readonly charset: string | null;
  /** Encoded size in bytes, when the server said. */
  readonly size: number;
}

/** What {@link planBody} found in a structure. */
export interface BodyPlan {
  readonly text: TextPartRef | null;
  readonly html: TextPartRef | null;
  readonly attachments: AttachmentInfo[];
}

/** Finds the body parts and attachments of a message. Never throws. */
export function planBody(root: BodyNode | undefined): BodyPlan {
  let text: TextPartRef | null = null;
  let html: TextPartRef | null = null;
  const attachments: AttachmentInfo[] = [];
  const visit = (node: BodyNode, depth: number): void => {
    if (depth > 50) return; // absurd nesting: stop rather than recurse forever
    const type = (node.type || "application/octet-stream").toLowerCase();
    if (type.startsWith("multipart/")) {
      for (const child of node.childNodes ?? []) visit(child, depth + 1);
      return;
    }
    const isAttachment = node.disposition?.toLowerCase() === "attachment";
    if (!isAttachment && (type === "text/plain" || type === "text/html")) {
      const ref: TextPartRef = {
        key: node.part ?? "1",
        encoding: node.encoding?.toLowerCase() ?? null,
        charset: node.parameters?.charset ?? null,
        size: node.size ?? 0,
      };
      // An empty part loses to a later one with content: servers synthesise an empty
      // text/plain for an empty nested multipart/alternative, before the real text.
      if (type === "text/plain" && (text === null || (text.size === 0 && ref.size > 0))) {
        return void (text = ref);
      }
      if (type === "text/html" && (html === null || (html.size === 0 && ref.size > 0))) {
        return void (html = ref);
      }
      if (!filenameOf(node)) return; // further inline text (e.g. a list footer): not a file
    }
    // Everything else, including message/rfc822 and inline images, is a file.
    attachments.push({
      filename: filenameOf(node),
      content_type: type,
      size: decodedSize(node),
    });
  };
  if (root) visit(root, 0);
  return { text, html, attachments };
}

function filenameOf(node: BodyNode): string | null {
  const name = node.dispositionParameters?.filename ?? node.parameters?.name;
  return name ? decodeMimeWords(name) : null;
}

/**
 * The size of the decoded content. For base64 it is estimated from the encoded
 * size (76-character lines plus CRLF carry 57 bytes), since the content is
 * never downloaded.
 */
function decodedSize(node: BodyNode): number {
  const size = node.size ?? 0;
  if (node.encoding?.toLowerCase() === "base64") return Math.floor((size * 57) / 78);
  return size;
}
