/**
 * The stream entry format: what the producer writes and workers read.
 *
 * Each entry has three fields:
 * - `type`: `email` (a message), `mailbox_reset` (a UIDVALIDITY change was
 *   handled), and with `--events`: `message_updated` (flags or Gmail labels
 *   changed) and `message_deleted` (expunged);
 * - `idempotency_key`: `account:mailbox:uidvalidity:uid` for emails,
 *   `…:uid:<modseq>` for updates, `…:uid:deleted` for deletions;
 * - `payload`: a JSON document ({@link EmailPayload}, {@link MailboxResetPayload},
 *   {@link MessageUpdatedPayload} or {@link MessageDeletedPayload}).
 *
 * @module
 */

import { IngestError } from "../errors.ts";
import { payloadProblems, SCHEMA_VERSION } from "./payload_schema.ts";

export { SCHEMA_VERSION };

/** Kinds of stream entries. */
export type EntryType = "email" | "mailbox_reset" | "message_updated" | "message_deleted";

/** Every entry type, in documentation order. */
export const ENTRY_TYPES: readonly EntryType[] = [
  "email",
  "mailbox_reset",
  "message_updated",
  "message_deleted",
];

/** Any entry's payload. */
export type EntryPayload =
  | EmailPayload
  | MailboxResetPayload
  | MessageUpdatedPayload
  | MessageDeletedPayload;

/** An attachment as described in the payload (content is never copied). */
export interface AttachmentInfo {
  /** File name from Content-Disposition or Content-Type, RFC 2047-decoded; `null` when none. */
  filename: string | null;
  /** MIME type, lower case, e.g. `application/pdf`. */
  content_type: string;
  /** Size in bytes (decoded size estimated from the encoded size for base64). */
  size: number;
}

/** Gmail's own identifiers, present when the server offers X-GM-EXT-1. */
export interface GmailInfo {
  /** X-GM-MSGID: the message id, stable across labels and UIDVALIDITY changes. */
  msgid: string;
  /** X-GM-THRID: the conversation id. */
  thrid: string | null;
  /** X-GM-LABELS, e.g. `\\Inbox`, `\\Important`, user labels. */
  labels: string[];
}

/** The fields naming one message, shared by the payloads of the entries about it. */
export interface MessageIdentity {
  /** Version of this schema ({@link SCHEMA_VERSION}). */
  schema_version: number;
  /** The account (IMAP user) the message is in. */
  account: string;
  /** Mailbox path, e.g. `INBOX`. */
  mailbox: string;
  /** IMAP UID within `mailbox` and `uidvalidity`. */
  uid: number;
  /** UIDVALIDITY the UID belongs to. */
  uidvalidity: number;
}

/** The JSON payload of an `email` entry (the seed's fields plus ours). */
export interface EmailPayload extends MessageIdentity {
  /** Message-ID header, with angle brackets; `null` when missing. */
  message_id: string | null;
  /** First From address (addr-spec, display name dropped); `null` when missing. */
  from: string | null;
  /** To addresses (addr-specs). */
  to: string[];
  /** Cc addresses. */
  cc: string[];
  /** Reply-To addresses. */
  reply_to: string[];
  /** Subject, RFC 2047-decoded; `null` when missing. */
  subject: string | null;
  /** Date header as ISO 8601 UTC; `null` when missing or unreadable. */
  date: string | null;
  /** The server's INTERNALDATE (arrival time) as ISO 8601 UTC. */
  internal_date: string | null;
  /** In-Reply-To message id; `null` when missing. */
  in_reply_to: string | null;
  /** References message ids, oldest first. */
  references: string[];
  /** The text body (or text derived from the HTML), first BODY_TEXT_CHARS characters (2,000). */
  body_text: string;
  /** The HTML body, first BODY_HTML_CHARS characters (500); empty when none. */
  body_html_preview: string;
  /** RFC822.SIZE in bytes. */
  size: number;
  /** IMAP flags, e.g. `\\Seen`. */
  flags: string[];
  /** Header fields by name as first seen; repeated fields joined by newlines, values capped at 8,000 characters. */
  headers: Record<string, string>;
  /** Attachments described from BODYSTRUCTURE (never downloaded). */
  attachments: AttachmentInfo[];
  /** Gmail's ids and labels; `null` on servers without X-GM-EXT-1. */
  gmail: GmailInfo | null;
  /** When the producer fetched the message, ISO 8601 UTC. */
  fetched_at: string;
  /** Present when the message could not be parsed fully; the rest is best effort. */
  parse_error?: string;
  /** Present when the body was skipped because the message exceeds MAX_MESSAGE_BYTES. */
  body_skipped?: "too_large";
  /**
   * Present, as `"full"`, when the server's BODYSTRUCTURE could not be trusted
   * (a part list that contradicts the headers, a multipart without parts, a
   * boundary the server did not find) and the message, being under
   * MAX_MESSAGE_BYTES, was downloaded whole and parsed with mailparser.
   * Absent on the fast path (headers, structure and the first bytes of the
   * text parts).
   */
  parsed_by?: "full";
}

/** The JSON payload of a `mailbox_reset` control entry. */
export interface MailboxResetPayload {
  /** Version of this schema ({@link SCHEMA_VERSION}). */
  schema_version: number;
  /** The account whose mailbox was reset. */
  account: string;
  /** Mailbox path. */
  mailbox: string;
  /** UIDVALIDITY the cursor had. */
  previous_uidvalidity: number;
  /** The new UIDVALIDITY; the mailbox is re-synced under it. */
  uidvalidity: number;
  /** When the producer handled the change, ISO 8601 UTC. */
  at: string;
}

/** What the payloads of change entries (`message_updated`, `message_deleted`) share. */
export interface MessageChange extends MessageIdentity {
  /** The `idempotency_key` of the message's `email` entry (to join on). */
  email_key: string;
  /**
   * As decimal text: the message's MODSEQ after the change (an update), the
   * mailbox's HIGHESTMODSEQ when the expunge was seen (a deletion); `null`
   * without CONDSTORE.
   */
  modseq: string | null;
  /** When the producer saw the change, ISO 8601 UTC. */
  detected_at: string;
}

/** The JSON payload of a `message_updated` entry: a known message's flags or labels changed. */
export interface MessageUpdatedPayload extends MessageChange {
  /** Message-ID header with angle brackets; `null` when missing or not readable any more. */
  message_id: string | null;
  /** Flags as last published (sorted, without `\\Recent`). */
  old_flags: string[];
  /** Flags now. */
  new_flags: string[];
  /** X-GM-LABELS as last published; `null` on servers without them. */
  old_labels: string[] | null;
  /** X-GM-LABELS now; `null` on servers without them. */
  new_labels: string[] | null;
}

/** The JSON payload of a `message_deleted` entry: a known message was expunged. */
export interface MessageDeletedPayload extends MessageChange {
  /** The flags last published for the message. */
  last_flags: string[];
}

/** The idempotency key of a message: stable across retries and re-deliveries. */
export function idempotencyKey(
  /** The account whose mailbox was reset. */
  account: string,
  /** Mailbox path. */
  mailbox: string,
  uidValidity: number,
  uid: number,
): string {
  return `${account}:${mailbox}:${uidValidity}:${uid}`;
}

/**
 * Stream fields of an email entry, in the order they are written: the
 * producer's commit script XADDs exactly this list (it names no field itself).
 */
export function emailEntryFields(payload: EmailPayload): string[] {
  return [
    "type",
    "email",
    "idempotency_key",
    idempotencyKey(payload.account, payload.mailbox, payload.uidvalidity, payload.uid),
    "payload",
    JSON.stringify(payload),
  ];
}

/** Stream fields of a mailbox_reset control entry (written by the commit script as given). */
export function mailboxResetEntryFields(payload: MailboxResetPayload): string[] {
  return [
    "type",
    "mailbox_reset",
    "idempotency_key",
    `${payload.account}:${payload.mailbox}:reset:${payload.previous_uidvalidity}:${payload.uidvalidity}`,
    "payload",
    JSON.stringify(payload),
  ];
}

/**
 * Stream fields of a `message_updated` entry. The idempotency key ends in the
 * change's MODSEQ (`account:mailbox:uidvalidity:uid:modseq`), so each change
 * is its own entry and a re-delivered one is recognised; `scan` stands in for
 * the MODSEQ on servers without CONDSTORE.
 */
export function messageUpdatedEntryFields(payload: MessageUpdatedPayload, scan: string): string[] {
  return [
    "type",
    "message_updated",
    "idempotency_key",
    `${payload.email_key}:${payload.modseq ?? scan}`,
    "payload",
    JSON.stringify(payload),
  ];
}

/** Stream fields of a `message_deleted` entry (`account:mailbox:uidvalidity:uid:deleted`). */
export function messageDeletedEntryFields(payload: MessageDeletedPayload): string[] {
  return [
    "type",
    "message_deleted",
    "idempotency_key",
    `${payload.email_key}:deleted`,
    "payload",
    JSON.stringify(payload),
  ];
}

/** A decoded entry. */
export interface DecodedEntry {
  /** The entry's kind. */
  type: EntryType;
  /** `account:mailbox:uidvalidity:uid` for emails. */
  idempotencyKey: string;
  /** The parsed, schema-checked payload. */
  payload: EntryPayload;
}

/** Why an entry could not be decoded (the worker dead-letters it with this reason). */
export class EntryFormatError extends IngestError {
  /** An undecodable entry (code `ENTRY_MALFORMED`, not retryable: the bytes will not change). */
  constructor(message: string) {
    super("ENTRY_MALFORMED", message, false);
  }
}

/**
 * An entry's idempotency key, after checking its type and key fields (not
 * its payload: {@link decodeEntry} does that), or throws
 * {@link EntryFormatError}. The worker checks its processed-record with this
 * before it parses the payload.
 */
export function entryIdempotencyKey(fields: Readonly<Record<string, unknown>>): string {
  const type = fields.type;
  if (!ENTRY_TYPES.includes(type as EntryType)) {
    const shown = typeof type === "string" ? type : null;
    throw new EntryFormatError(`unknown entry type ${JSON.stringify(shown)}`);
  }
  const key = fields.idempotency_key;
  if (typeof key !== "string" || key === "") {
    throw new EntryFormatError("entry has no idempotency_key");
  }
  return key;
}

/** Decodes and validates an entry's fields, or throws {@link EntryFormatError}. */
export function decodeEntry(fields: Record<string, string>): DecodedEntry {
  const key = entryIdempotencyKey(fields);
  const type = fields.type as EntryType;
  let payload: unknown;
  try {
    payload = JSON.parse(fields.payload ?? "");
  } catch (error) {
    throw new EntryFormatError(`payload is not valid JSON (${(error as Error).message})`);
  }
  const problems = payloadProblems(type, payload);
  if (problems.length > 0) {
    throw new EntryFormatError(`payload has the wrong schema: ${problems.join("; ")}`);
  }
  return { type, idempotencyKey: key, payload: payload as EntryPayload };
}
