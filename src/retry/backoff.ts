/**
 * Capped exponential backoff with "full jitter"
 * (delay = random(0.5..1) × min(cap, base × 2^attempt)), used by every
 * reconnect and retry loop so that many clients do not retry in step.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Parameters of {@link backoffDelay}. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  baseMs: number;
  /** Upper bound of any delay, in ms. */
  capMs: number;
  /** Random source in [0, 1), for tests. Default `Math.random`. */
  random?: () => number;
}

/** Delay in ms before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  if (attempt < 0 || !Number.isFinite(attempt)) {
    throw new InvalidArgumentError(
      `Cannot compute backoff: attempt must be >= 0, current value is ${attempt}`,
    );
  }
  const random = options.random ?? Math.random;
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 52));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** Waits `ms`, or rejects early with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
