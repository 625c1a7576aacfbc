/**
 * The failure history of an entry, kept in the group's attempts hash
 * (`attemptsKey`, one field per entry id, a JSON value) until the entry is
 * acknowledged or dead-lettered. It survives worker restarts.
 *
 * @module
 */

/** Failures so far of one entry. */
export interface AttemptRecord {
  /** Failed attempts so far. */
  readonly attempts: number;
  /** ISO time of the first failure. */
  readonly firstFailure: string;
  /** ISO time of the latest failure. */
  readonly lastFailure: string;
  /** Message of the latest failure. */
  readonly lastError: string;
}

/** Serialises a record for the attempts hash. */
export function encodeAttempts(record: AttemptRecord): string {
  return JSON.stringify({
    attempts: record.attempts,
    first_failure: record.firstFailure,
    last_failure: record.lastFailure,
    last_error: record.lastError,
  });
}

/** Reads a record back; `undefined` for a missing or unreadable value. */
export function decodeAttempts(raw: string | null | undefined): AttemptRecord | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as Record<string, unknown>;
    if (typeof value.attempts !== "number") return undefined;
    return {
      attempts: value.attempts,
      firstFailure: String(value.first_failure ?? ""),
      lastFailure: String(value.last_failure ?? ""),
      lastError: String(value.last_error ?? ""),
    };
  } catch {
    return undefined;
  }
}

/**
 * The number of the attempt about to run: one more than the failures on
 * record, and never less than the group's delivery count (`deliveries`, this
 * delivery included), which also counts runs whose worker died or could not
 * record their outcome (issue 11: every re-delivery used to say attempt 1).
 */
export function attemptNumber(record: AttemptRecord | undefined, deliveries: number): number {
  return Math.max((record?.attempts ?? 0) + 1, Number.isFinite(deliveries) ? deliveries : 1);
}

/**
 * The record after one more failure at `at` with `error`. `attempt` is the
 * number of the attempt that failed (see {@link attemptNumber}); the record
 * counts at least that many.
 */
export function nextAttempt(
  previous: AttemptRecord | undefined,
  at: Date,
  error: string,
  attempt = 0,
): AttemptRecord {
  const iso = at.toISOString();
  return {
    attempts: Math.max((previous?.attempts ?? 0) + 1, attempt),
    firstFailure: previous?.firstFailure || iso,
    lastFailure: iso,
    lastError: error,
  };
}
