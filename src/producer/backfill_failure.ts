/**
 * What the history lane does after a failure. The lane never ends the
 * mailbox: the live path decides that on its own connection. So a dropped
 * connection or `[THROTTLED]` backs off only the lane (throttling holds every
 * lane of the same account, see {@link DownloadBudget.hold}), a lost lease or
 * dead credentials end the lane (the live path stands by or parks), and with
 * `--once` the failure is the supervisor's to decide.
 *
 * @module
 */

import { RedisError } from "../errors.ts";
import { CursorMovedError, LeaseLostError } from "./follower_errors.ts";
import { decideAfterFailure, type RetryPolicy } from "./failure_policy.ts";

/** Longest wait of the lane after a Redis failure. */
const REDIS_RETRY_CAP_MS = 10_000;

/** The lane's next step after a failure. */
export type LaneFailureDecision =
  /** Read the backfill record again and go on (someone moved its cursor). */
  | { readonly action: "again" }
  /** End the lane; the live path handles what it means (lease lost, park, stop). */
  | { readonly action: "end" }
  /** `--once`: hand the failure to the supervisor. */
  | { readonly action: "throw" }
  /** Wait, then reconnect the lane; `throttled` holds the account's other lanes too. */
  | {
    readonly action: "retry";
    readonly delayMs: number;
    readonly kind: "throttled" | "transient";
  };

/** Decides after the `attempt`-th consecutive failure (0-based) of a lane. */
export function decideLaneFailure(
  error: unknown,
  attempt: number,
  options: { readonly once: boolean; readonly retry: RetryPolicy; readonly random?: () => number },
): LaneFailureDecision {
  if (error instanceof CursorMovedError) return { action: "again" };
  if (error instanceof LeaseLostError) return { action: "end" };
  if (options.once) return { action: "throw" };
  const decision = decideAfterFailure(error, attempt, options.retry, options.random);
  if (decision.action !== "retry") return { action: "end" };
  // Redis coming back is noticed soon, as on the live path (which waits at most 10 s).
  const delayMs = error instanceof RedisError
    ? Math.min(decision.delayMs, REDIS_RETRY_CAP_MS)
    : decision.delayMs;
  return { action: "retry", delayMs, kind: decision.kind };
}
