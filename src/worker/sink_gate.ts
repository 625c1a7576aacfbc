/**
 * The limit on sink calls at once (`--concurrency`), kept apart from how many
 * entries the worker has in hand. The worker reads ahead: while one read
 * batch is in the sink (a file sink's write and fdatasync, a webhook's
 * requests), the next batch is read, decoded and checked against the
 * processed-records, and waits here for its turn. Places are handed over in
 * arrival order, so entries reach the sink in the order they were read.
 *
 * @module
 */

/**
 * A counting gate in front of the sink, for items of type `T` (the worker's:
 * its entries on their way), each handed to one `run` callback when it
 * passes: the entries waiting hold no closure of their own.
 */
export class SinkGate<T> {
  readonly #run: (item: T) => void;
  #free: number;
  readonly #waiting: T[] = [];
  #head = 0;
  #open = false;
  #handingOver = false;

  /**
   * A gate with `limit` places that calls `run` with each item let through.
   * When `signal` aborts (the shutdown timeout) every waiter is let through
   * at once: it sees the signal and leaves the entry pending instead of
   * calling the sink; from then on the gate stays open.
   */
  constructor(limit: number, run: (item: T) => void, signal?: AbortSignal) {
    this.#run = run;
    this.#free = limit;
    signal?.addEventListener("abort", () => this.#openAll(), { once: true });
  }

  /** Entries waiting for a place. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /**
   * Takes a place for `item`: runs it now when one is free (no promise, no
   * extra turn of the event loop), else when a place is handed over. Every
   * `enter` is paired with one {@link leave} once the item's work is done.
   */
  enter(item: T): void {
    if (this.#open) return this.#run(item);
    if (this.#free > 0 && this.waiting === 0) {
      this.#free--;
      return this.#run(item);
    }
    this.#waiting.push(item);
  }

  /**
   * Gives the place back: to the first waiter (called now), or to the free
   * places. A waiter that gives its place back at once (a malformed entry)
   * hands it on from a loop here, not from a nested call, so a long run of
   * them does not grow the stack.
   */
  leave(): void {
    if (this.#open) return;
    this.#free++;
    if (this.#handingOver) return; // the loop below hands it on
    this.#handingOver = true;
    try {
      while (this.#free > 0 && this.waiting > 0) {
        this.#free--;
        const next = this.#waiting[this.#head]!;
        this.#head++;
        if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) this.#compact();
        this.#run(next);
      }
    } finally {
      this.#handingOver = false;
    }
  }

  #compact(): void {
    this.#waiting.splice(0, this.#head);
    this.#head = 0;
  }

  #openAll(): void {
    this.#open = true;
    const all = this.#waiting.splice(this.#head);
    this.#waiting.length = 0;
    this.#head = 0;
    for (const item of all) this.#run(item);
  }
}
