/**
 * The supervisor's decisions after a failure, as pure functions: whether a
 * failed connection is retried (and after how long), parks the account,
 * stops the mailbox or gives up (`--once`); and how long a round waits after
 * a Redis failure while the IMAP connection stays open.
 *
 * @module
 */

import type { RedisError } from "../errors.ts";
import { classifyRedisFailure } from "../redis/redis_failure.ts";
import {
  decideAfterFailure,
  type FailureDecision,
  redisNeedsOperator,
  type RetryPolicy,
} from "./failure_policy.ts";

/** Longest wait between rounds retried after a Redis failure (full, down), ms. */
export const REDIS_RETRY_CAP_MS = 10_000;

/** What the supervisor knows when a connection failed. */
export interface ConnectionFailure {
  readonly error: unknown;
  /** Consecutive failures before this one (0-based). */
  readonly attempt: number;
  /** The connection committed something or finished a round before it failed. */
  readonly progressed: boolean;
  readonly retry: RetryPolicy;
  /** `--once`: give up after `onceMaxAttempts` consecutive failures. */
  readonly once: boolean;
  readonly onceMaxAttempts: number;
  /** For tests: the backoff's jitter source. */
  readonly random?: () => number;
}

/** What follows a failed connection. */
export interface ReconnectDecision {
  /** What the failure policy says (`retry` with its delay, `park`, `stop`). */
  readonly decision: FailureDecision;
  /** Consecutive failures including this one. */
  readonly attempts: number;
  /** `--once` has tried often enough: end the mailbox as failed instead of retrying. */
  readonly giveUp: boolean;
}

/**
 * Decides after a failed connection. Progress before the failure starts the
 * backoff anew, so a connection that keeps dropping but keeps committing is
 * never a reason to give up.
 */
export function decideReconnect(failure: ConnectionFailure): ReconnectDecision {
  const attempt = failure.progressed ? 0 : failure.attempt;
  const decision = decideAfterFailure(failure.error, attempt, failure.retry, failure.random);
  const attempts = attempt + 1;
  const giveUp = decision.action === "retry" && failure.once &&
    attempts >= failure.onceMaxAttempts;
  return { decision, attempts, giveUp };
}

/** What follows a round that failed on Redis while IMAP is fine. */
export type RedisRoundDecision =
  | { readonly giveUp: true }
  | { readonly giveUp: false; readonly delayMs: number };

/**
 * The wait before retrying a round after the `failures`-th consecutive Redis
 * failure (0-based): the backoff, capped at {@link REDIS_RETRY_CAP_MS} (a try
 * is one cheap command, and once memory is freed or Redis is back the round
 * should resume within seconds). `--once` gives up after `onceMaxAttempts`.
 */
export function decideRedisRetry(
  error: RedisError,
  failures: number,
  options: Omit<ConnectionFailure, "error" | "attempt" | "progressed">,
): RedisRoundDecision {
  if (options.once && failures + 1 >= options.onceMaxAttempts) return { giveUp: true };
  if (redisNeedsOperator(error)) return { giveUp: true };
  const decision = decideAfterFailure(error, failures, options.retry, options.random);
  const delayMs = Math.min(
    decision.action === "retry" ? decision.delayMs : options.retry.capMs,
    REDIS_RETRY_CAP_MS,
  );
  return { giveUp: false, delayMs };
}

/** The log line and fields of a Redis failure: Redis full and Redis down need different fixes. */
export function redisFailureLog(
  error: unknown,
): { message: string; fields: Record<string, string> } {
  const failure = classifyRedisFailure(error);
  const message = failure.kind === "oom"
    ? "Redis is out of memory: raise maxmemory or free memory; retrying the round"
    : `redis ${failure.kind === "unreachable" ? "unavailable" : "failed"}: retrying the round`;
  return {
    message,
    fields: { redis_failure: failure.kind, ...(failure.fix ? { fix: failure.fix } : {}) },
  };
}
