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
import { fieldAddresses } from "./address_list.ts";
import {
  firstHeader,
  type HeaderField,
  headerRecord,
  messageIds,
  parseHeaderBlock,
} from "./header_block.ts";
import type { WholeMessage } from "./full_message.ts";
import { htmlToText, htmlToTextLoaded, loadHtmlToText } from "./html_text.ts";
import { mailDate } from "./mail_date.ts";
import { type BodyNode, planBody } from "./structure.ts";
import { hasLostParts, structureDoubt } from "./structure_doubt.ts";
import { type PartBytes, partText } from "./part_text.ts";

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

export type { PartBytes } from "./part_text.ts";

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
  /**
   * The message has only HTML and html-to-text was not loaded: `body_text` is
   * empty. {@link buildEmailPayloads} loads it and builds such a payload again.
   */
  needsHtmlToText?: true;
}

/**
 * The payloads of `messages`, loading html-to-text first when one of them
 * turns out to have only HTML (see `html_text.ts`). Throws only when
 * html-to-text cannot be loaded (a broken installation).
 */
export async function buildEmailPayloads(
  messages: readonly FetchedMessage[],
  context: PayloadContext,
): Promise<BuiltPayload[]> {
  const built = messages.map((message) => buildEmailPayload(message, context));
  if (!built.some((one) => one.needsHtmlToText)) return built;
  await loadHtmlToText();
  return built.map((one, i) =>
    one.needsHtmlToText ? buildEmailPayload(messages[i]!, context) : one
  );
}

/**
 * Builds the payload of one message. Never throws. Text from HTML needs
 * html-to-text loaded (`loadHtmlToText()`); without it the result says
 * `needsHtmlToText` ({@link buildEmailPayloads} handles that).
 */
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
    parsed?.length ? parsed : fieldAddresses(envelopeList, header(name));

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
  const built: BuiltPayload = { payload, dedupeId: dedupeId(payload) };
  if (body.needsHtmlToText) built.needsHtmlToText = true;
  return built;
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
): { text: string; html: string; attachments: AttachmentInfo[]; needsHtmlToText?: boolean } {
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
  if (!text && html && !htmlToTextLoaded()) {
    return { text: "", html, attachments: plan.attachments, needsHtmlToText: true };
  }
  return {
    text: text || (html ? attempt("html to text", "", () => htmlToText(html, wantedChars)) : ""),
    html,
    attachments: plan.attachments,
  };
}

/** `text` with CRLF and lone CR as `\n` (`replaceAll` is about twice as fast as `/\r\n?/g`). */
function unixLines(text: string): string {
  if (!text.includes("\r")) return text;
  const lf = text.replaceAll("\r\n", "\n");
  return lf.includes("\r") ? lf.replaceAll("\r", "\n") : lf;
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
