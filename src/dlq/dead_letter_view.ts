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
  };
  return withFields ? { ...view, fields: entryFields(entry.originalFields) } : view;
}
