/**
 * Readies the stream before the first mailbox connects (the Redis mode
 * creates the consumer group). Redis refusing it at start — out of memory,
 * loading after a restart, unreachable, a read-only replica, busy — is a
 * Redis failure like those of a round: a long-running producer logs what is
 * wrong with its fix and tries again, capped at 10 s;
 * `--once` ends at once with that error (exit 1 and the fix, not a retry
 * loop for a run that is meant to finish).
 *
 * @module
 */

import { describeError, RedisError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { classifyRedisFailure, redisFailureError } from "../redis/redis_failure.ts";
import { sleep } from "../retry/backoff.ts";
import type { RetryPolicy } from "./failure_policy.ts";
import { decideRedisRetry } from "./supervisor_decisions.ts";

/** Options of {@link prepareStreamUntilReady}. */
export interface StreamPreparationOptions {
  /** `--once`: the first failure is thrown (no retry). */
  readonly once: boolean;
  /** Backoff bounds (each wait is at most 10 s). */
  readonly retry: RetryPolicy;
  readonly logger: Logger;
  /** Ends the waiting; the function then returns `false`. */
  readonly signal: AbortSignal;
  /** Called with the failure kind while Redis refuses, and with `null` once it is done. */
  readonly onRefused?: (kind: string | null) => void;
}

/** Failures that end by themselves or by an operator's fix on the Redis side. */
const RETRIED = new Set(["oom", "unreachable", "loading", "readonly", "busy"]);

/**
 * Runs `prepare` until it succeeds; `true` when it did, `false` when
 * `signal` aborted first. Throws a {@link RedisError} naming the failure and
 * its fix with `once`, or when retrying cannot help (ACL, a bad reply).
 */
export async function prepareStreamUntilReady(
  prepare: () => Promise<void>,
  options: StreamPreparationOptions,
): Promise<boolean> {
  const { logger, signal } = options;
  for (let failures = 0; !signal.aborted; failures++) {
    try {
      await prepare();
      if (failures > 0) {
        options.onRefused?.(null);
        logger.info("stream ready: Redis accepts writes again");
      }
      return true;
    } catch (error) {
      const wrapped = redisFailureError("consumer group creation", error);
      const failure = classifyRedisFailure(error);
      if (options.once || !(wrapped instanceof RedisError) || !RETRIED.has(failure.kind)) {
        throw wrapped;
      }
      const next = decideRedisRetry(wrapped, failures, {
        retry: options.retry,
        once: false,
        onceMaxAttempts: 0,
      });
      const delayMs = next.giveUp ? options.retry.capMs : next.delayMs;
      options.onRefused?.(failure.kind);
      logger.warn(startMessage(failure.kind), {
        error: describeError(error),
        redis_failure: failure.kind,
        ...(failure.fix ? { fix: failure.fix } : {}),
        retry_in_ms: delayMs,
      });
      await sleep(delayMs, signal).catch(() => {});
    }
  }
  return false;
}

function startMessage(kind: string): string {
  return kind === "oom"
    ? "Redis is out of memory: cannot create the consumer group; raise maxmemory or free memory; retrying"
    : `redis ${kind === "unreachable" ? "unavailable" : "failed"} at start: retrying`;
}
