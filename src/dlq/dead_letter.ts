/**
 * The layout of a dead-letter entry.
 *
 * A DLQ entry holds the original entry's fields first, unchanged and in order,
 * then the dead-letter fields (`source_stream`, `source_id`, `group`,
 * `consumer`, `reason`, `error`, `attempts`, `first_failure`,
 * `last_failure`), and last `original_fields`: how many field pairs came from
 * the original. Replay copies exactly those pairs back, so even a malformed
 * entry with arbitrary field names round-trips.
 *
 * @module
 */

import { fieldText, type StreamFieldValue } from "../redis/reply.ts";

/** Every reason an entry is dead-lettered for (what `dlq list --reason` accepts). */
export const DEAD_LETTER_REASONS = ["max_attempts", "permanent", "malformed", "poison"] as const;

/** Why an entry was dead-lettered. */
export type DeadLetterReason = typeof DEAD_LETTER_REASONS[number];

/** What the worker records about a dead-lettered entry. */
export interface DeadLetterInfo {
  /** The main stream the entry came from. */
  readonly sourceStream: string;
  /** Its id there. */
  readonly sourceId: string;
  /** Consumer group the entry failed in. */
  readonly group: string;
  /** The consumer that gave up on it. */
  readonly consumer: string;
  /** Why it was dead-lettered. */
  readonly reason: DeadLetterReason;
  /** The last error message. */
  readonly error: string;
  /** Failed attempts (for `poison`: deliveries). */
  readonly attempts: number;
  /** ISO time of the first failure. */
  readonly firstFailure: string;
  /** ISO time of the last failure. */
  readonly lastFailure: string;
}

/**
 * A dead-letter entry read back from the DLQ stream: the original fields as
 * text, or as bytes where they were read so (`V`: replay writes them back
 * exactly as they were, UTF-8 or not).
 */
export interface DeadLetter<V extends string | Uint8Array = string> extends DeadLetterInfo {
  /** Id in the DLQ stream. */
  readonly id: string;
  /** The original entry's fields as flat pairs. */
  readonly originalFields: readonly V[];
}

/** Longest error message kept in a DLQ entry. */
export const MAX_ERROR_CHARS = 2_000;

/** The flat field list written to the DLQ for `original` (flat pairs, as read) and `info`. */
export function deadLetterFields<V extends StreamFieldValue = string>(
  original: readonly V[],
  info: DeadLetterInfo,
): (V | string)[] {
  return [
    ...original,
    "source_stream",
    info.sourceStream,
    "source_id",
    info.sourceId,
    "group",
    info.group,
    "consumer",
    info.consumer,
    "reason",
    info.reason,
    "error",
    info.error.slice(0, MAX_ERROR_CHARS),
    "attempts",
    String(info.attempts),
    "first_failure",
    info.firstFailure,
    "last_failure",
    info.lastFailure,
    "original_fields",
    String(original.length / 2),
  ];
}

/** Reads a DLQ entry back; entries not written by {@link deadLetterFields} keep every field as original. */
export function parseDeadLetter<V extends StreamFieldValue = string>(
  id: string,
  fields: readonly V[],
): DeadLetter<V> {
  const text = (at: number) => fieldText(fields[at] ?? "");
  const declared = Number(text(fields.length - 1));
  const valid = text(fields.length - 2) === "original_fields" && Number.isInteger(declared) &&
    declared >= 0 && declared * 2 <= fields.length - 2;
  const originalLength = valid ? declared * 2 : fields.length;
  const meta: Record<string, string> = {};
  for (let i = originalLength; i + 1 < fields.length; i += 2) meta[text(i)] = text(i + 1);
  return {
    id,
    originalFields: fields.slice(0, originalLength),
    sourceStream: meta.source_stream ?? "",
    sourceId: meta.source_id ?? "",
    group: meta.group ?? "",
    consumer: meta.consumer ?? "",
    reason: (meta.reason ?? "permanent") as DeadLetterReason,
    error: meta.error ?? "",
    attempts: Number(meta.attempts ?? 0),
    firstFailure: meta.first_failure ?? "",
    lastFailure: meta.last_failure ?? "",
  };
}

/** The value of `name` among flat `fields`, or `undefined`. */
export function fieldValue(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
