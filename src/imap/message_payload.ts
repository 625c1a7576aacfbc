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
import {
  type AttachmentInfo,
  type EmailPayload,
  type GmailInfo,
  SCHEMA_VERSION,
} from "../stream/entry.ts";
import { isEnvelopePlaceholder, parseAddressList } from "./address_list.ts";
import { decodeCharset, isKnownCharset } from "./charset.ts";
import {
  firstHeader,
  type HeaderField,
  headerRecord,
  messageIds,
  parseHeaderBlock,
} from "./header_block.ts";
import type { WholeMessage } from "./full_message.ts";
import { htmlToText } from "./html_text.ts";
import { mailDate } from "./mail_date.ts";
import { type BodyNode, planBody, type TextPartRef } from "./structure.ts";
import { hasLostParts, structureDoubt } from "./structure_doubt.ts";
import {
  decodeTransferEncoding,
  isCleanBase64,
  isImpossibleBase64,
  readQuotedPrintable,
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
  /**
   * mailparser's reading of the full source, fetched when the BODYSTRUCTURE
   * could not be trusted (see `structure_doubt.ts`); it then supplies the
   * subject, addresses, date, bodies and attachments.
   */
  whole?: WholeMessage;
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
  const attempt = recordingAttempt(problems);
  const fields = attempt(
    "headers",
    [] as HeaderField[],
    () => message.headers ? parseHeaderBlock(message.headers, problems) : [],
  );
  if (!message.headers || fields.length === 0) problems.push("no readable header fields");
  if (!message.bodyStructure) problems.push("the server sent no BODYSTRUCTURE");
  const envelope = message.envelope;
  const header = (name: string) => firstHeader(fields, name);
  const whole = message.whole;
  const body = readBody(message, context.bodyTextChars, context.bodyHtmlChars, problems, attempt);
  const messageId = envelope?.messageId || messageIds(header("Message-ID"))[0] || null;
  const list = (envelopeList: EnvelopeAddress[] | undefined, name: string, parsed?: string[]) =>
    parsed?.length ? parsed : addresses(envelopeList, header(name));

  const payload: EmailPayload = {
    schema_version: SCHEMA_VERSION,
    account: context.account,
    mailbox: context.mailbox,
    uid: message.uid,
    uidvalidity: context.uidValidity,
    message_id: messageId,
    from: list(envelope?.from, "From", whole?.from)[0] ?? null,
    to: list(envelope?.to, "To", whole?.to),
    cc: list(envelope?.cc, "Cc", whole?.cc),
    reply_to: list(envelope?.replyTo, "Reply-To", whole?.replyTo),
    // The header is decoded here with charset fallbacks; the ENVELOPE's decoding is cruder.
    subject: whole?.subject ?? header("Subject") ?? envelope?.subject ?? null,
    date: (whole?.date ?? mailDate(envelope?.date) ?? mailDate(header("Date")))?.toISOString() ??
      null,
    internal_date: mailDate(message.internalDate)?.toISOString() ?? null,
    in_reply_to: envelope?.inReplyTo || messageIds(header("In-Reply-To"))[0] || null,
    references: messageIds(header("References")),
    // CRLF → LF at most halves the length: twice the cap is all that can be kept.
    body_text: cutChars(
      unixLines(body.text.slice(0, 2 * context.bodyTextChars + 1)),
      context.bodyTextChars,
    ),
    body_html_preview: cutChars(body.html, context.bodyHtmlChars),
    size: message.size,
    flags: [...message.flags].sort(),
    headers: headerRecord(fields),
    attachments: body.attachments,
    gmail: message.gmail,
    fetched_at: (context.now ?? new Date()).toISOString(),
  };
  if (message.bodySkipped) payload.body_skipped = message.bodySkipped;
  if (whole) payload.parsed_by = "full";
  if (problems.length > 0) payload.parse_error = problems.join("; ");
  return { payload, dedupeId: dedupeId(payload) };
}

/** Runs `read`; on a throw records `what` failed in the payload's problems and returns `fallback`. */
type Attempt = <T>(what: string, fallback: T, read: () => T) => T;

/** An {@link Attempt} that records failures in `problems`. */
function recordingAttempt(problems: string[]): Attempt {
  return <T>(what: string, fallback: T, read: () => T): T => {
    try {
      return read();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      return fallback;
    }
  };
}

/** The text, HTML and files of a message: mailparser's reading when it was parsed whole. */
function readBody(
  message: FetchedMessage,
  wantedChars: number,
  htmlChars: number,
  problems: string[],
  attempt: Attempt,
): { text: string; html: string; attachments: AttachmentInfo[] } {
  const whole = message.whole;
  if (whole) {
    if (!whole.text && !whole.html && whole.attachments.length === 0) {
      problems.push(`${structureDoubt(message) ?? "unusable structure"}; mailparser found no body`);
    }
    return whole;
  }
  const plan = attempt(
    "structure",
    { text: null, html: null, attachments: [] },
    () => planBody(message.bodyStructure),
  );
  if (hasLostParts(message)) {
    problems.push("multipart body without readable parts (boundary missing or wrong)");
  }
  const text = attempt("text part", "", () => partText(message.text, problems, wantedChars));
  // Without text the whole HTML fetched feeds body_text; otherwise only its preview is kept.
  const html = attempt(
    "html part",
    "",
    () => partText(message.html, problems, text ? htmlChars : Infinity),
  );
  return {
    text: text || (html ? attempt("html to text", "", () => htmlToText(html, wantedChars)) : ""),
    html,
    attachments: plan.attachments,
  };
}

/**
 * The decoded text of a downloaded part, at least its first `wantedChars`
 * characters (line ends counted as `\n`); records undecodable content in
 * `problems`. A part fetched far beyond what the payload keeps (a 25 kB
 * text part for 2,000 characters) is decoded and checked only as far as
 * needed: decoding is prefix-stable, so the kept characters are the same.
 */
function partText(bytes: PartBytes | undefined, problems: string[], wantedChars: number): string {
  if (!bytes) return "";
  const all = bytes.bytes;
  const labelOnly = bytes.part.encoding === "base64" && !bytes.truncated && isImpossibleBase64(all);
  // Most text is one byte per character: start there and double for wider encodings.
  for (let size = wantedChars + (wantedChars >> 3) + 256;; size *= 2) {
    if (size >= all.length || labelOnly) return decodePart(bytes, problems);
    const prefix = { part: bytes.part, bytes: all.subarray(0, size), truncated: true };
    const scratch: string[] = [];
    const text = decodePart(prefix, scratch);
    if (lineChars(text, wantedChars + 1) > wantedChars) {
      problems.push(...scratch);
      return text;
    }
  }
}

/** Characters of `text` once CRLF and CR are `\n`, counted up to `atMost`. */
function lineChars(text: string, atMost: number): number {
  // Each CRLF becomes one character: the length less the pairs, found by the native search.
  let pairs = 0;
  for (let i = text.indexOf("\r\n"); i >= 0; i = text.indexOf("\r\n", i + 2)) pairs++;
  return Math.min(text.length - pairs, atMost);
}

/** `text` with CRLF and lone CR as `\n` (`replaceAll` is about twice as fast as `/\r\n?/g`). */
function unixLines(text: string): string {
  if (!text.includes("\r")) return text;
  const lf = text.replaceAll("\r\n", "\n");
  return lf.includes("\r") ? lf.replaceAll("\r", "\n") : lf;
}

/** Where {@link decodePart} decodes quoted-printable (see `readQuotedPrintable`). */
let qpScratch = new Uint8Array(64 * 1024);

function decodePart(bytes: PartBytes, problems: string[]): string {
  const { key, charset } = bytes.part;
  let encoding = bytes.part.encoding;
  if (encoding === "base64" && !bytes.truncated && isImpossibleBase64(bytes.bytes)) {
    // A whole part whose base64 letters leave one over was never base64 (one letter carries no
    // byte): mailers that label plain text so exist. Read it as text, as Python's email does.
    problems.push(`part ${key}: invalid base64, read as plain text`);
    encoding = null;
  } else if (encoding === "base64" && !isCleanBase64(bytes.bytes)) {
    problems.push(`part ${key}: invalid base64`);
  }
  let decoded: Uint8Array;
  if (encoding === "quoted-printable") {
    // Decoded into the scratch buffer: it is read into a string below, before any other use.
    if (qpScratch.length < bytes.bytes.length) qpScratch = new Uint8Array(bytes.bytes.length * 2);
    const reading = readQuotedPrintable(bytes.bytes, qpScratch);
    if (reading.invalid) problems.push(`part ${key}: invalid quoted-printable`);
    decoded = reading.bytes;
  } else {
    decoded = decodeTransferEncoding(bytes.bytes, encoding);
  }
  if (charset && !isKnownCharset(charset)) {
    problems.push(
      `part ${key}: unknown charset ${JSON.stringify(charset)}, read as UTF-8 or Latin-1`,
    );
  }
  return decodeCharset(decoded, charset, bytes.truncated);
}

/**
 * The addr-specs of an address field. The server's ENVELOPE is used when it
 * can be trusted: no placeholders for what the server could not parse
 * (`MISSING_MAILBOX@MISSING_DOMAIN`), no spaces, and as many addresses as the
 * header has `@` signs (a display name such as `Mikel@Lindsaar <m@x.org>` or a
 * second address the server dropped makes the counts differ). Otherwise the
 * header is parsed, which costs a few microseconds per field.
 */
function addresses(list: EnvelopeAddress[] | undefined, header: string | null): string[] {
  const envelope = (list ?? []).map((a) => a.address ?? "");
  const trusted = envelope.length > 0 &&
    envelope.every((address) => !/\s/.test(address) && !isEnvelopePlaceholder(address)) &&
    (header === null || atSigns(header) === envelope.length);
  if (trusted) return envelope;
  const parsed = parseAddressList(header);
  if (parsed.length > 0 || header !== null) return parsed;
  return envelope.filter((address) => !isEnvelopePlaceholder(address));
}

function atSigns(text: string): number {
  let count = 0;
  for (let i = text.indexOf("@"); i >= 0; i = text.indexOf("@", i + 1)) count++;
  return count;
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
