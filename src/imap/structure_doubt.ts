/**
 * When the server's BODYSTRUCTURE cannot be trusted. The fast path reads a
 * message through the server's parse of it; a few real messages defeat that
 * parse (a boundary the server did not find, `multipart/*` without its
 * boundary parameter, a multipart with no parts), and then only parsing the
 * whole source says what the message holds. The producer fetches those few
 * whole (under MAX_MESSAGE_BYTES) and parses them with mailparser.
 *
 * @module
 */

import type { BodyNode } from "./structure.ts";

/** What the check needs of a fetched message. */
export interface StructureEvidence {
  /** RFC822.SIZE. */
  readonly size: number;
  /** BODYSTRUCTURE. */
  readonly bodyStructure?: BodyNode;
  /** The raw header block. */
  readonly headers?: Uint8Array;
}

/**
 * Why the BODYSTRUCTURE contradicts the message, or `null` when it can be
 * trusted (also when there is no structure at all: nothing to contradict).
 */
export function structureDoubt(message: StructureEvidence): string | null {
  const root = message.bodyStructure;
  if (!root) return null;
  const type = (root.type || "").toLowerCase();
  const declared = declaredType(message.headers);
  if (declared && declared.includes("/") && declared !== type) {
    if (declared.startsWith("multipart/") || type.startsWith("multipart/")) {
      return `the server read the ${declared} body as ${type || "nothing"}`;
    }
  }
  if (!type.startsWith("multipart/")) return null;
  if (!root.childNodes?.length) return "multipart body without parts";
  if (hasLostParts(message)) {
    return "multipart body without readable parts (boundary missing or wrong)";
  }
  return null;
}

// Header names and media types are ASCII: any one-byte-per-character view reads them.
const headerView = new TextDecoder("windows-1252");

/** The media type of the top-level Content-Type header, lower case; `null` when absent. */
function declaredType(headers: Uint8Array | undefined): string | null {
  if (!headers) return null;
  // `\s*` crosses a fold: some mailers put the type on the continuation line.
  const match = /^content-type[ \t]*:\s*([^\s;]*)/im.exec(headerView.decode(headers));
  return match ? match[1]!.toLowerCase() : null;
}

/**
 * A multipart whose boundary never occurs comes back from the server as parts
 * of size 0 although the body has content.
 */
export function hasLostParts(message: StructureEvidence): boolean {
  const root = message.bodyStructure;
  if (!root?.type.startsWith("multipart/")) return false;
  let content = 0;
  const walk = (node: BodyNode): void => {
    if (node.childNodes?.length) node.childNodes.forEach(walk);
    else content += node.size ?? 0;
  };
  walk(root);
  const bodyBytes = message.size - (message.headers?.length ?? 0);
  return content === 0 && bodyBytes > 16;
}
