/**
 * Coalesces calls made in the same turn of the event loop into one: items
 * added before the next macrotask are handed to `flush` together, and each
 * caller hears when its batch went through (or the batch's error). The
 * worker uses it to send one Redis command for the entries whose handlers
 * finished together instead of one command per entry.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** Options of {@link TickBatch}. */
export interface TickBatchOptions<I> {
  /** Handles a batch. */
  flush: (items: readonly I[]) => Promise<void>;
  /** Largest batch; more items wait for the next one. Default 256. */
  maxItems?: number;
}

interface Waiter<I> {
  readonly item: I;
  resolve(item: I): void;
  reject(error: unknown, item: I): void;
}

/** A batch of calls collected until the next macrotask. */
export class TickBatch<I> {
  readonly #flush: (items: readonly I[]) => Promise<void>;
  readonly #maxItems: number;
  #waiting: Waiter<I>[] = [];
  #scheduled = false;

  constructor(options: TickBatchOptions<I>) {
    this.#flush = options.flush;
    this.#maxItems = options.maxItems ?? 256;
  }

  /**
   * Adds `item` to the current batch and calls `resolve` once its batch went
   * through or `reject` with the batch's error, each given the item (so one
   * pair of functions serves every item: no promise or closure per item).
   */
  push(item: I, resolve: (item: I) => void, reject: (error: unknown, item: I) => void): void {
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
        () => batch.forEach((w) => w.resolve(w.item)),
        (error) => batch.forEach((w) => w.reject(error, w.item)),
      );
    }
  }
}
