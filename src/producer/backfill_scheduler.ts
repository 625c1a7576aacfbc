/**
 * The process-wide order of history backfill work: every mailbox lane asks for
 * a turn before it fetches a chunk of history, turns go round-robin over the
 * lanes (first come, first served, a lane that already holds a turn after the
 * others), at most `slots` at once, and none while live work (a sync round of
 * new mail) runs anywhere in the process. One scheduler per process, passed to
 * every supervisor, so a fleet process with many new accounts shares itself
 * fairly and new mail never queues behind history.
 *
 * @example
 * ```ts
 * const scheduler = new BackfillScheduler({ slots: 2 });
 * const release = await scheduler.turn("alice:INBOX", signal);
 * try {
 *   // fetch one chunk of history
 * } finally {
 *   release();
 * }
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Options of {@link BackfillScheduler}. */
export interface BackfillSchedulerOptions {
  /** Backfill chunks fetched at once in the process. Default 2. */
  readonly slots?: number;
}

interface Waiter {
  readonly lane: string;
  readonly grant: () => void;
}

/** What a scheduler is doing (for tests and `/status`). */
export interface BackfillSchedulerLoad {
  /** Turns held now. */
  readonly busy: number;
  /** Lanes waiting for a turn. */
  readonly waiting: number;
  /** Live rounds running now (no turn is granted meanwhile). */
  readonly live: number;
}

/** See the module documentation. */
export class BackfillScheduler {
  readonly #slots: number;
  readonly #queue: Waiter[] = [];
  /** Turns held, per lane. */
  readonly #held = new Map<string, number>();
  #busy = 0;
  #live = 0;

  constructor(options: BackfillSchedulerOptions = {}) {
    const slots = options.slots ?? 2;
    if (!Number.isInteger(slots) || slots < 1) {
      throw new InvalidArgumentError(
        `Cannot create scheduler: slots must be a whole number >= 1, current value is ${slots}`,
      );
    }
    this.#slots = slots;
  }

  /** What the scheduler is doing now. */
  load(): BackfillSchedulerLoad {
    return { busy: this.#busy, waiting: this.#queue.length, live: this.#live };
  }

  /** Runs live work; no backfill turn starts until every live work has ended. */
  async live<T>(work: () => Promise<T>): Promise<T> {
    this.#live++;
    try {
      return await work();
    } finally {
      this.#live--;
      this.#grant();
    }
  }

  /**
   * Waits for `lane`'s turn; resolves to the function that ends it (call it
   * once, in a `finally`). Rejects with the signal's reason when aborted first.
   */
  turn(lane: string, signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        lane,
        grant: () => {
          signal.removeEventListener("abort", onAbort);
          resolve(this.#release(lane));
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
      this.#grant();
    });
  }

  /** Takes a turn for `lane`; the returned function gives it back (once). */
  #release(lane: string): () => void {
    this.#busy++;
    this.#held.set(lane, (this.#held.get(lane) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#busy--;
      const held = (this.#held.get(lane) ?? 1) - 1;
      if (held === 0) this.#held.delete(lane);
      else this.#held.set(lane, held);
      this.#grant();
    };
  }

  /** Grants free slots, lanes holding no turn first, while no live work runs. */
  #grant(): void {
    while (this.#live === 0 && this.#busy < this.#slots && this.#queue.length > 0) {
      const idle = this.#queue.findIndex((w) => !this.#held.has(w.lane));
      const [waiter] = this.#queue.splice(idle >= 0 ? idle : 0, 1);
      waiter!.grant();
    }
  }
}
