/**
 * The Redis keys one consumer group of one stream works with.
 *
 * @module
 */

import {
  attemptsKey,
  processedMovedKey,
  processedSetKey,
  retryScheduleKey,
} from "../redis/keys.ts";

/** Names of everything a worker touches for `stream` and `group`. */
export interface GroupKeys {
  readonly stream: string;
  readonly group: string;
  readonly dlqStream: string;
  /** ZSET of entries waiting for a retry, scored by due time (ms). */
  readonly retrySchedule: string;
  /** HASH entry id → attempts JSON. */
  readonly attempts: string;
  /** ZSET of the processed-records: idempotency key → expiry (Unix ms). */
  readonly processed: string;
  /** Set once release 0.1.0's per-entry records were moved into `processed`. */
  readonly processedMoved: string;
}

/** Builds the {@link GroupKeys} of a stream, group and DLQ stream. */
export function groupKeys(stream: string, group: string, dlqStream: string): GroupKeys {
  return {
    stream,
    group,
    dlqStream,
    retrySchedule: retryScheduleKey(stream, group),
    attempts: attemptsKey(stream, group),
    processed: processedSetKey(stream, group),
    processedMoved: processedMovedKey(stream, group),
  };
}
