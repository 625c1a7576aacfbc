/**
 * Waiting in fault scenarios: polls a condition, and says whether it came
 * true in time instead of throwing, so a scenario can still report counts.
 *
 * @module
 */

/** Polls `check` every `everyMs` until true (returns true) or `timeoutMs` passed (false). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (await Promise.resolve().then(check).catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Seconds since `startMs` (a `performance.now()` value), one decimal. */
export function secondsSince(startMs: number): number {
  return Math.round((performance.now() - startMs) / 100) / 10;
}
