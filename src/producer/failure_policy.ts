/**
 * What the producer does after a mailbox fails: retry soon (network, Redis),
 * back off long (Gmail `[THROTTLED]`/`[OVERQUOTA]`, rejected logins), or park
 * the account (credentials only `ingest auth setup` can repair). Delays are
 * capped exponential with jitter, so many producers never retry in step.
 *
 * @module
 */

import { AuthError, RedisError } from "../errors.ts";
import { classifyImapFailure } from "../imap/imap_errors.ts";
import { backoffDelay } from "../retry/backoff.ts";

/** Backoff bounds for ordinary and for throttling failures. */
export interface RetryPolicy {
  /** First delay after an ordinary failure. Default 1 s. */
  readonly baseMs: number;
  /** Longest delay after ordinary failures. Default 60 s. */
  readonly capMs: number;
  /** First delay after throttling or a rejected login. Default 30 s. */
  readonly throttledBaseMs: number;
  /** Longest such delay. Default 15 min. */
  readonly throttledCapMs: number;
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 1_000,
  capMs: 60_000,
  throttledBaseMs: 30_000,
  throttledCapMs: 15 * 60_000,
};

/** The decision after a failure. */
export type FailureDecision =
  | { readonly action: "park"; readonly reason: string }
  | {
    readonly action: "retry";
    readonly delayMs: number;
    readonly kind: "throttled" | "transient";
  };

/** Decides how to go on after the `attempt`-th consecutive failure (0-based). */
export function decideAfterFailure(
  error: unknown,
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random?: () => number,
): FailureDecision {
  if (error instanceof AuthError && error.reauthRequired) {
    return { action: "park", reason: error.message };
  }
  // Redis outages are ordinary failures whatever their wording; only IMAP answers can throttle.
  const kind = error instanceof RedisError ? "transient" : classifyImapFailure(error);
  if (kind === "throttled" || kind === "auth") {
    const delayMs = backoffDelay(attempt, {
      baseMs: policy.throttledBaseMs,
      capMs: policy.throttledCapMs,
      random,
    });
    return { action: "retry", delayMs, kind: "throttled" };
  }
  const delayMs = backoffDelay(attempt, { baseMs: policy.baseMs, capMs: policy.capMs, random });
  return { action: "retry", delayMs, kind: "transient" };
}
