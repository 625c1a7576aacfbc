/**
 * Turns what was fetched for one message (ENVELOPE, BODYSTRUCTURE, the header
 * block and the first bytes of its text parts) into the stream payload. It
 * never throws: whatever cannot be read is left empty and explained in
 * `parse_error`, so a broken message is still published and never blocks the
 * cursor.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { type EmailPayload, type GmailInfo, SCHEMA_VERSION } from "../stream/entry.ts";
import { parseAddressList } from "./address_list.ts";
import { decodeCharset, isKnownCharset } from "./charset.ts";
import {
  firstHeader,
  type HeaderField,
  headerRecord,
  messageIds,
  parseHeaderBlock,
} from "./header_block.ts";
import { htmlToText } from "./html_text.ts";
import { type BodyNode, planBody, type TextPartRef } from "./structure.ts";
import {
  decodeTransferEncoding,
  hasInvalidQuotedPrintable,
  isCleanBase64,
} from "./transfer_decoding.ts";

/** An address as the server's ENVELOPE gives it. */
export interface EnvelopeAddress {
  /** Display name. */
  name?: string;
  /** The addr-spec. */
  address?: string;
}

/** The ENVELOPE fields used (a subset of imapflow's `MessageEnvelopeObject`). */
export interface Envelope {
  /** Date header as the server parsed it. */
  date?: Date | string;
  /** Subject as the server gives it (may be undecoded). */
  subject?: string;
  /** Message-ID. */
  messageId?: string;
  /** In-Reply-To. */
  inReplyTo?: string;
  /** From addresses. */
  from?: EnvelopeAddress[];
  /** Reply-To addresses. */
  replyTo?: EnvelopeAddress[];
  /** To addresses. */
  to?: EnvelopeAddress[];
  /** Cc addresses. */
  cc?: EnvelopeAddress[];
}

/** The first bytes of a text part, still transfer-encoded. */
export interface PartBytes {
  /** Which part these bytes belong to. */
  readonly part: TextPartRef;
  /** The bytes, still transfer-encoded. */
  readonly bytes: Uint8Array;
  /** Whether `bytes` stops before the end of the part. */
  readonly truncated: boolean;
}

/** Everything fetched for one message. */
export interface FetchedMessage {
  /** IMAP UID. */
  uid: number;
  /** RFC822.SIZE. */
  size: number;
  /** IMAP flags. */
  flags: readonly string[];
  /** INTERNALDATE. */
  internalDate?: Date | string;
  /** The server's ENVELOPE. */
  envelope?: Envelope;
  /** BODYSTRUCTURE, when fetched. */
  bodyStructure?: BodyNode;
  /** The raw header block. */
  headers?: Uint8Array;
  /** Present when the server offers X-GM-EXT-1. */
  gmail: GmailInfo | null;
  /** The first bytes of the text/plain part. */
  text?: PartBytes;
  /** The first bytes of the text/html part. */
  html?: PartBytes;
  /** The body was not downloaded: the message exceeds the size limit. */
  bodySkipped?: "too_large";
  /** Problems met while fetching (e.g. the server refused a part). */
  fetchProblems?: string[];
}

/** Where the message lives and what the payload may hold. */
export interface PayloadContext {
  /** The account read from. */
  account: string;
  /** Mailbox path. */
  mailbox: string;
  /** UIDVALIDITY of the mailbox. */
  uidValidity: number;
  /** Characters of `body_text`. */
  bodyTextChars: number;
  /** Characters of `body_html_preview`. */
  bodyHtmlChars: number;
  /** Fetch time. Default now. */
  now?: Date;
}

/** A payload and the identity used to recognise the message again after a UIDVALIDITY change. */
export interface BuiltPayload {
  /** The payload to publish. */
  payload: EmailPayload;
  /** `gm:<X-GM-MSGID>`, else `mid:<Message-ID>`, else `h:<hash of key headers>`. */
  dedupeId: string;
}

/** Builds the payload of one message. Never throws. */
export function buildEmailPayload(message: FetchedMessage, context: PayloadContext): BuiltPayload {
  const problems = [...(message.fetchProblems ?? [])];
  const attempt = <T>(what: string, fallback: T, read: () => T): T => {
    try {
      return read();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      return fallback;
    }
  };

  const fields = attempt(
    "headers",
    [] as HeaderField[],
    () => message.headers ? parseHeaderBlock(message.headers, problems) : [],
  );
  if (!message.headers || fields.length === 0) problems.push("no readable header fields");
  if (!message.bodyStructure) problems.push("the server sent no BODYSTRUCTURE");
  const envelope = message.envelope;
  const header = (name: string) => firstHeader(fields, name);
  const plan = attempt(
    "structure",
    { text: null, html: null, attachments: [] },
    () => planBody(message.bodyStructure),
  );
  if (hasLostParts(message)) {
    problems.push("multipart body without readable parts (boundary missing or wrong)");
  }

  const textBody = attempt("text part", "", () => partText(message.text, problems));
  const htmlBody = attempt("html part", "", () => partText(message.html, problems));
  const bodyText = textBody ||
    (htmlBody ? attempt("html to text", "", () => htmlToText(htmlBody)) : "");
  const messageId = envelope?.messageId || messageIds(header("Message-ID"))[0] || null;

  const payload: EmailPayload = {
    schema_version: SCHEMA_VERSION,
    account: context.account,
    mailbox: context.mailbox,
    uid: message.uid,
    uidvalidity: context.uidValidity,
    message_id: messageId,
    from: addresses(envelope?.from, header("From"))[0] ?? null,
    to: addresses(envelope?.to, header("To")),
    cc: addresses(envelope?.cc, header("Cc")),
    reply_to: addresses(envelope?.replyTo, header("Reply-To")),
    // The header is decoded here with charset fallbacks; the ENVELOPE's decoding is cruder.
    subject: header("Subject") ?? envelope?.subject ?? null,
    date: isoDate(envelope?.date ?? header("Date") ?? undefined),
    internal_date: isoDate(message.internalDate),
    in_reply_to: envelope?.inReplyTo || messageIds(header("In-Reply-To"))[0] || null,
    references: messageIds(header("References")),
    body_text: cutChars(bodyText.replace(/\r\n?/g, "\n"), context.bodyTextChars),
    body_html_preview: cutChars(htmlBody, context.bodyHtmlChars),
    size: message.size,
    flags: [...message.flags].sort(),
    headers: headerRecord(fields),
    attachments: plan.attachments,
    gmail: message.gmail,
    fetched_at: (context.now ?? new Date()).toISOString(),
  };
  if (message.bodySkipped) payload.body_skipped = message.bodySkipped;
  if (problems.length > 0) payload.parse_error = problems.join("; ");
  return { payload, dedupeId: dedupeId(payload) };
}

/** The decoded text of a downloaded part; records undecodable content in `problems`. */
function partText(bytes: PartBytes | undefined, problems: string[]): string {
  if (!bytes) return "";
  const { key, encoding, charset } = bytes.part;
  if (encoding === "base64" && !isCleanBase64(bytes.bytes)) {
    problems.push(`part ${key}: invalid base64`);
  }
  if (encoding === "quoted-printable" && hasInvalidQuotedPrintable(bytes.bytes)) {
    problems.push(`part ${key}: invalid quoted-printable`);
  }
  if (charset && !isKnownCharset(charset)) {
    problems.push(
      `part ${key}: unknown charset ${JSON.stringify(charset)}, read as UTF-8 or Latin-1`,
    );
  }
  const decoded = decodeTransferEncoding(bytes.bytes, encoding);
  return decodeCharset(decoded, charset, bytes.truncated);
}

/**
 * A multipart whose boundary never occurs comes back from the server as parts
 * of size 0 although the body has content.
 */
function hasLostParts(message: FetchedMessage): boolean {
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

function addresses(list: EnvelopeAddress[] | undefined, header: string | null): string[] {
  if (list && list.length > 0) {
    return list.map((a) => a.address ?? "").filter((address) => address.includes("@"));
  }
  return parseAddressList(header);
}

function isoDate(value: Date | string | undefined): string | null {
  if (value === undefined || value === "") return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The first `max` characters, never splitting a surrogate pair. */
function cutChars(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/**
 * The identity of a message across UIDVALIDITY changes: Gmail's X-GM-MSGID,
 * else the Message-ID, else a hash of fields that survive a re-upload
 * (not the internal date, which a restore may change).
 */
export function dedupeId(payload: EmailPayload): string {
  if (payload.gmail?.msgid) return `gm:${payload.gmail.msgid}`;
  if (payload.message_id) return `mid:${payload.message_id}`;
  const basis = [payload.date, payload.from, payload.to.join(","), payload.subject, payload.size]
    .map((part) => String(part ?? ""))
    .join("\n");
  return `h:${createHash("sha256").update(basis).digest("hex").slice(0, 32)}`;
}
