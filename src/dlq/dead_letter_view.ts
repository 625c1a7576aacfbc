/**
 * The JSON view of a dead letter, as `ingest dlq list --json` prints it
 * (snake_case keys). It lives beside the layout it reads, so the DLQ format
 * has one owner.
 *
 * @module
 */

import { entryFields } from "../redis/reply.ts";
import { type DeadLetter, fieldValue } from "./dead_letter.ts";

/** One dead letter as JSON. */
export interface DeadLetterView {
  readonly id: string;
  readonly reason: string;
  readonly error: string;
  readonly attempts: number;
  readonly first_failure: string;
  readonly last_failure: string;
  readonly consumer: string;
  readonly group: string;
  readonly source_stream: string;
  readonly source_id: string;
  /** The original entry's `type` field, `null` when it had none. */
  readonly type: string | null;
  /** The original entry's idempotency key, `null` when it had none. */
  readonly idempotency_key: string | null;
  /** Length of the original payload field, `null` when it had none. */
  readonly payload_bytes: number | null;
  /** The email's IMAP UID from the stored payload; `null` when it has none (not an email, or unreadable). */
  readonly uid: number | null;
  /** The email's subject from the stored payload; `null` when it has none. */
  readonly subject: string | null;
  /** The original fields (payload included: email content), only for exports. */
  readonly fields?: Record<string, string>;
}

/** The view of `entry`; its original fields only when `withFields` is set. */
export function deadLetterView(entry: DeadLetter, withFields = false): DeadLetterView {
  const view: DeadLetterView = {
    id: entry.id,
    reason: entry.reason,
    error: entry.error,
    attempts: entry.attempts,
    first_failure: entry.firstFailure,
    last_failure: entry.lastFailure,
    consumer: entry.consumer,
    group: entry.group,
    source_stream: entry.sourceStream,
    source_id: entry.sourceId,
    type: fieldValue(entry.originalFields, "type") ?? null,
    idempotency_key: fieldValue(entry.originalFields, "idempotency_key") ?? null,
    payload_bytes: fieldValue(entry.originalFields, "payload")?.length ?? null,
    ...messageSummary(fieldValue(entry.originalFields, "payload")),
  };
  return withFields ? { ...view, fields: entryFields(entry.originalFields) } : view;
}

/**
 * The UID and subject of a stored payload, each `null` when absent: a
 * malformed entry's payload may be anything, so nothing here throws.
 */
export function messageSummary(
  payload: string | undefined,
): { uid: number | null; subject: string | null } {
  let parsed: unknown;
  try {
    parsed = payload === undefined ? undefined : JSON.parse(payload);
  } catch {
    parsed = undefined;
  }
  const record = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? parsed as Record<string, unknown>
    : {};
  return {
    uid: Number.isSafeInteger(record.uid) ? record.uid as number : null,
    subject: typeof record.subject === "string" ? record.subject : null,
  };
}
