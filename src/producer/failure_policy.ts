/**
 * What the producer does after a mailbox fails: retry soon (network, Redis,
 * an OAuth provider that cannot be reached), back off long (Gmail
 * `[THROTTLED]`/`[OVERQUOTA]`), park the account (a rejected login or a dead
 * OAuth2 grant: only new credentials help), or stop (a configuration problem
 * such as a token file others can read: retrying cannot fix it). Delays are
 * capped exponential with jitter, so many producers never retry in step.
 *
 * @module
 */

import { AuthError, ConfigError, ImapError, IngestError, RedisError } from "../errors.ts";
import { classifyImapFailure } from "../imap/imap_errors.ts";
import { backoffDelay } from "../retry/backoff.ts";

/** Backoff bounds for ordinary and for throttling failures. */
export interface RetryPolicy {
  /** First delay after an ordinary failure. Default 1 s. */
  readonly baseMs: number;
  /** Longest delay after ordinary failures. Default 60 s. */
  readonly capMs: number;
  /** First delay after throttling. Default 30 s. */
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

/**
 * What kind of failure an error is:
 * - `reauth`: the login was rejected or the OAuth2 grant is dead; only new
 *   credentials help (`IMAP_PASSWORD`, `ingest auth setup`);
 * - `configuration`: a setting or file is wrong (token file mode, a
 *   directory in its place, a wrong `INGEST_TOKEN_KEY`, a rejected OAuth
 *   client, a mailbox that does not exist); the same attempt fails the same
 *   way until a person fixes it;
 * - `throttled`: the server asks to slow down;
 * - `transient`: anything else (network, Redis, a provider outage).
 */
export type FailureClass = "reauth" | "configuration" | "throttled" | "transient";

/** Redis failures that no retry mends: a wrong password, a missing ACL permission, not Redis. */
const NEEDS_OPERATOR: ReadonlySet<string> = new Set([
  "REDIS_AUTH",
  "REDIS_NOPERM",
  "REDIS_NOT_REDIS",
]);

/** Whether `error` is a Redis failure no retry mends (wrong password, NOPERM, not Redis). */
export function redisNeedsOperator(error: RedisError): boolean {
  return NEEDS_OPERATOR.has(error.code);
}

/** Classifies a failure of a mailbox follower. */
export function classifyFailure(error: unknown): FailureClass {
  // Redis outages are ordinary failures whatever their wording; only IMAP answers can throttle.
  // A wrong password, a missing ACL permission or a port that is not Redis needs a person.
  if (error instanceof RedisError) {
    return redisNeedsOperator(error) ? "configuration" : "transient";
  }
  if (error instanceof ConfigError) return "configuration";
  if (error instanceof AuthError) {
    if (error.reauthRequired || error.code === "IMAP_LOGIN_REJECTED") return "reauth";
    return error.retryable ? "transient" : "configuration";
  }
  // e.g. IMAP_MAILBOX_NOT_FOUND: the same mailbox name fails the same way.
  if (error instanceof ImapError && !error.retryable) return "configuration";
  const kind = classifyImapFailure(error);
  if (kind === "auth") return "reauth";
  if (kind === "throttled") return "throttled";
  return "transient";
}

/** Whether `error` is a {@link FailureClass} `configuration` problem (fail at once, exit 2). */
export function isConfigurationFailure(error: unknown): error is IngestError {
  return error instanceof IngestError && classifyFailure(error) === "configuration";
}

/** The decision after a failure. */
export type FailureDecision =
  /** New credentials are needed: stop trying this account (state `needs_reauth`). */
  | { readonly action: "park"; readonly reason: string }
  /** A configuration problem: stop this mailbox; the message names the fix. */
  | { readonly action: "stop"; readonly reason: string }
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
  const kind = classifyFailure(error);
  const reason = error instanceof Error ? error.message : String(error);
  if (kind === "reauth") return { action: "park", reason };
  if (kind === "configuration") return { action: "stop", reason };
  const throttled = kind === "throttled";
  const delayMs = backoffDelay(attempt, {
    baseMs: throttled ? policy.throttledBaseMs : policy.baseMs,
    capMs: throttled ? policy.throttledCapMs : policy.capMs,
    random,
  });
  return { action: "retry", delayMs, kind };
}
