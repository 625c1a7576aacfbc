/**
 * Coalesces calls made in the same turn of the event loop into one: items
 * added before the next macrotask are handed to `flush` together, and each
 * caller gets its own result (or the batch's error). The worker uses it to
 * send one Redis command for the entries whose handlers finished together
 * instead of one command per entry; each entry's outcome is still its own.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** Options of {@link TickBatch}. */
export interface TickBatchOptions<I, O> {
  /** Handles a batch; answers one result per item, in order. */
  flush: (items: readonly I[]) => Promise<readonly O[]>;
  /** Largest batch; more items wait for the next one. Default 256. */
  maxItems?: number;
}

interface Waiter<I, O> {
  readonly item: I;
  resolve(value: O, item: I): void;
  reject(error: unknown, item: I): void;
}

/** A batch of calls collected until the next macrotask. */
export class TickBatch<I, O> {
  readonly #flush: (items: readonly I[]) => Promise<readonly O[]>;
  readonly #maxItems: number;
  #waiting: Waiter<I, O>[] = [];
  #scheduled = false;

  constructor(options: TickBatchOptions<I, O>) {
    this.#flush = options.flush;
    this.#maxItems = options.maxItems ?? 256;
  }

  /**
   * Adds `item` to the current batch and calls `resolve` with its result or
   * `reject` with the batch's error, each also given the item (so one pair
   * of functions serves every item: no promise or closure per item).
   */
  push(
    item: I,
    resolve: (value: O, item: I) => void,
    reject: (error: unknown, item: I) => void,
  ): void {
    this.#waiting.push({ item, resolve, reject });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#run());
    }
  }

  #run(): void {
    this.#scheduled = false;
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#maxItems);
      this.#flush(batch.map((w) => w.item)).then(
        (results) => batch.forEach((w, i) => w.resolve(results[i]!, w.item)),
        (error) => batch.forEach((w) => w.reject(error, w.item)),
      );
    }
  }
}
