/**
 * The errors a mailbox follower's parts raise to one another (a lost lease,
 * a busy lease with `--once`, a cursor moved by someone else), and
 * {@link viaRedis}, which names a failed Redis operation.
 *
 * @module
 */

import { IngestError } from "../errors.ts";
import { redisFailureError } from "../redis/redis_failure.ts";

/** Another producer took the lease: the follower goes back to standby. */
export class LeaseLostError extends IngestError {
  constructor() {
    super("LEASE_LOST", "Another producer took over the mailbox lease", true);
  }
}

/** `--once` waited long enough for another producer's lease. */
export class LeaseBusyError extends IngestError {
  constructor(mailbox: string) {
    super(
      "LEASE_BUSY",
      `Another producer holds the lease of mailbox ${mailbox}; --once gave up waiting. ` +
        "Stop the other producer, or let it do the work.",
      false,
    );
  }
}

/** The stored cursor is not where this producer left it: it is read again. */
export class CursorMovedError extends IngestError {
  constructor() {
    super(
      "CURSOR_MOVED",
      "The cursor was changed by someone else (e.g. `ingest state reset`)",
      true,
    );
  }
}

/** The account's daily download budget is used up: history backfill waits, live mail goes on. */
export class BackfillPausedError extends IngestError {
  constructor(budgetBytes: number) {
    super(
      "BACKFILL_PAUSED",
      `The account downloaded its daily budget (IMAP_DAILY_DOWNLOAD_MB: ${
        Math.round(budgetBytes / 1_000_000)
      } MB in 24 h): history backfill pauses until the window frees`,
      true,
    );
  }
}

/**
 * Runs a Redis operation, turning its failure into a retryable `RedisError`
 * that names what went wrong (an OOM as an OOM, with the fix).
 */
export async function viaRedis<T>(doing: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw redisFailureError(doing, error);
  }
}
