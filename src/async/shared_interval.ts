/**
 * Periodic callbacks that share one timer per period: a fleet process
 * watches hundreds of IMAP connections and renews hundreds of leases, and
 * one timer per connection would wake the process hundreds of times a
 * second. Callbacks registered with the same period run together on one
 * unref'd `setInterval` (so it never keeps the process alive on its own);
 * the timer is cleared when its last callback is removed.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

interface Wheel {
  readonly timer: ReturnType<typeof setInterval>;
  readonly callbacks: Set<() => void>;
}

// One table for the whole process, on purpose: sharing timers across
// independent owners (connections, leases) is the point of this module.
const wheels = new Map<number, Wheel>();

/**
 * Runs `callback` every `periodMs` until the returned function is called.
 * A callback that throws is isolated from the others of its period.
 */
export function everyInterval(periodMs: number, callback: () => void): () => void {
  if (!Number.isInteger(periodMs) || periodMs < 1) {
    throw new InvalidArgumentError(
      `Cannot schedule: periodMs must be a whole number >= 1, current value is ${periodMs}`,
    );
  }
  const own = wheels.get(periodMs) ?? startWheel(periodMs);
  // A fresh wrapper per registration, so the same function may be registered twice.
  const entry = () => callback();
  own.callbacks.add(entry);
  return () => {
    own.callbacks.delete(entry);
    if (own.callbacks.size === 0 && wheels.get(periodMs) === own) {
      clearInterval(own.timer);
      wheels.delete(periodMs);
    }
  };
}

function startWheel(periodMs: number): Wheel {
  const callbacks = new Set<() => void>();
  const timer = setInterval(() => {
    for (const run of [...callbacks]) {
      try {
        run();
      } catch { /* one owner's failure must not stop the others' checks */ }
    }
  }, periodMs);
  Deno.unrefTimer(timer);
  const wheel = { timer, callbacks };
  wheels.set(periodMs, wheel);
  return wheel;
}

/** How many timers the shared intervals hold now (for tests and benchmarks). */
export function sharedIntervalTimers(): number {
  return wheels.size;
}
