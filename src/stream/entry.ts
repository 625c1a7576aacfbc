/**
 * The stream entry format: what the producer writes and workers read.
 *
 * Each entry has three fields:
 * - `type`: `email` (a message) or `mailbox_reset` (a UIDVALIDITY change was handled);
 * - `idempotency_key`: `account:mailbox:uidvalidity:uid` for emails;
 * - `payload`: a JSON document ({@link EmailPayload} or {@link MailboxResetPayload}).
 *
 * @module
 */

/** Version of the payload schema; bumped on incompatible change. */
export const SCHEMA_VERSION = 1;

/** Kinds of stream entries. */
export type EntryType = "email" | "mailbox_reset";

/** An attachment as described in the payload (content is never copied). */
export interface AttachmentInfo {
  filename: string | null;
  content_type: string;
  size: number;
}

/** Gmail's own identifiers, present when the server offers X-GM-EXT-1. */
export interface GmailInfo {
  msgid: string;
  thrid: string | null;
  labels: string[];
}

/** The JSON payload of an `email` entry (the seed's fields plus ours). */
export interface EmailPayload {
  schema_version: number;
  account: string;
  mailbox: string;
  uid: number;
  uidvalidity: number;
  message_id: string | null;
  from: string | null;
  to: string[];
  cc: string[];
  reply_to: string[];
  subject: string | null;
  date: string | null;
  internal_date: string | null;
  in_reply_to: string | null;
  references: string[];
  body_text: string;
  body_html_preview: string;
  size: number;
  flags: string[];
  headers: Record<string, string>;
  attachments: AttachmentInfo[];
  gmail: GmailInfo | null;
  fetched_at: string;
  /** Present when the message could not be parsed fully; the rest is best effort. */
  parse_error?: string;
  /** Present when the body was skipped because the message exceeds MAX_MESSAGE_BYTES. */
  body_skipped?: "too_large";
}

/** The JSON payload of a `mailbox_reset` control entry. */
export interface MailboxResetPayload {
  schema_version: number;
  account: string;
  mailbox: string;
  previous_uidvalidity: number;
  uidvalidity: number;
  at: string;
}

/** The idempotency key of a message: stable across retries and re-deliveries. */
export function idempotencyKey(
  account: string,
  mailbox: string,
  uidValidity: number,
  uid: number,
): string {
  return `${account}:${mailbox}:${uidValidity}:${uid}`;
}

/** Stream fields of an email entry, in the order they are written. */
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

/** Stream fields of a mailbox_reset control entry. */
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

/** A decoded entry. */
export interface DecodedEntry {
  type: EntryType;
  idempotencyKey: string;
  payload: EmailPayload | MailboxResetPayload;
}

/** Why an entry could not be decoded (the worker dead-letters it with this reason). */
export class EntryFormatError extends Error {
  override name = "EntryFormatError";
}

/** Decodes and validates an entry's fields, or throws {@link EntryFormatError}. */
export function decodeEntry(fields: Record<string, string>): DecodedEntry {
  const type = fields.type;
  if (type !== "email" && type !== "mailbox_reset") {
    throw new EntryFormatError(`unknown entry type ${JSON.stringify(type ?? null)}`);
  }
  const key = fields.idempotency_key;
  if (!key) throw new EntryFormatError("entry has no idempotency_key");
  let payload: unknown;
  try {
    payload = JSON.parse(fields.payload ?? "");
  } catch (error) {
    throw new EntryFormatError(`payload is not valid JSON (${(error as Error).message})`);
  }
  const problems = type === "email" ? emailPayloadProblems(payload) : resetPayloadProblems(payload);
  if (problems.length > 0) {
    throw new EntryFormatError(`payload has the wrong schema: ${problems.join("; ")}`);
  }
  return { type, idempotencyKey: key, payload: payload as EmailPayload | MailboxResetPayload };
}

function emailPayloadProblems(payload: unknown): string[] {
  if (!isRecord(payload)) return ["payload is not an object"];
  const problems: string[] = [];
  if (payload.schema_version !== SCHEMA_VERSION) {
    problems.push(`schema_version must be ${SCHEMA_VERSION}`);
  }
  for (const field of ["account", "mailbox", "fetched_at"]) {
    if (typeof payload[field] !== "string") problems.push(`${field} must be a string`);
  }
  for (const field of ["uid", "uidvalidity", "size"]) {
    if (!Number.isInteger(payload[field])) problems.push(`${field} must be an integer`);
  }
  for (const field of ["to", "cc", "attachments", "flags"]) {
    if (!Array.isArray(payload[field])) problems.push(`${field} must be an array`);
  }
  return problems;
}

function resetPayloadProblems(payload: unknown): string[] {
  if (!isRecord(payload)) return ["payload is not an object"];
  return ["account", "mailbox"].filter((f) => typeof payload[f] !== "string").map((f) =>
    `${f} must be a string`
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
