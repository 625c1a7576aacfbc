/**
 * How the worker reports settles: the {@link Settlements} it uses (retrying
 * what Redis refuses, with the logs and metrics that tell an operator why no
 * new work is taken), and the log line of a settle that failed for good.
 *
 * @module
 */

import type { Logger } from "../log/logger.ts";
import type { WorkerObserver } from "../observe/events.ts";
import { describeRedisFailure } from "../redis/redis_failure.ts";
import { SettleAbandonedError, Settlements } from "./settlements.ts";

/** Options of {@link reportingSettlements}. */
export interface SettleReportingOptions {
  /** Ends waiting settles (the shutdown timeout). */
  signal: AbortSignal;
  /** The worker's logger. */
  logger: Logger;
  /** Metrics hooks. */
  observer: WorkerObserver;
  /** Sets the worker's last error (`null`: cleared). */
  setLastError: (error: string | null) => void;
  /** Settles go through again: wake the loop to take new work. */
  wake: () => void;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
  /** Jitter source. Default `Math.random`. */
  random?: () => number;
}

/** The worker's {@link Settlements}, logging and counting refusals. */
export function reportingSettlements(options: SettleReportingOptions): Settlements {
  const { logger: log, observer, setLastError } = options;
  return new Settlements({
    signal: options.signal,
    random: options.random,
    now: options.now,
    onBlocked: (id, error) => {
      setLastError(error);
      log.error("cannot settle entries: not taking new work until Redis accepts them", {
        id,
        error,
      });
    },
    onWaitingChanged: (count) => observer.unsettled?.(count),
    onRefused: (id, error, tries, retryInMs, kind) => {
      setLastError(error);
      observer.settleRefused?.(kind);
      if (tries === 1 || tries % 10 === 0) {
        log.warn("settle refused; retrying", { id, tries, retry_in_ms: retryInMs });
      }
    },
    onUnblocked: (blockedMs, settled) => {
      setLastError(null);
      log.info("entries settled again: taking new work", { blocked_ms: blockedMs, settled });
      options.wake();
    },
  });
}

/**
 * Logs a settle of entry `id` that failed for good (the entry stays pending
 * and is claimed again later, by another worker after the visibility timeout
 * or by this one); returns the error as the worker's last error.
 */
export function reportSettleFailure(log: Logger, id: string, error: unknown): string {
  const described = describeRedisFailure(error);
  if (error instanceof SettleAbandonedError) {
    log.warn("shutdown: outcome of a handled entry not recorded; it will run again", { id });
  } else {
    log.error("could not settle entry; it stays pending and will be retried", {
      id,
      error: described,
    });
  }
  return described;
}
