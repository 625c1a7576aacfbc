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

/** A counting gate in front of the sink. */
export class SinkGate {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  #head = 0;
  #open = false;
  #handingOver = false;

  /**
   * A gate with `limit` places. When `signal` aborts (the shutdown timeout)
   * every waiter is let through at once: it sees the signal and leaves the
   * entry pending instead of calling the sink; from then on the gate stays open.
   */
  constructor(limit: number, signal?: AbortSignal) {
    this.#free = limit;
    signal?.addEventListener("abort", () => this.#openAll(), { once: true });
  }

  /** Entries waiting for a place. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /**
   * Takes a place for `run`: calls it now when one is free (no promise, no
   * extra turn of the event loop), else when a place is handed over. Every
   * `enter` is paired with one {@link leave} once `run`'s work is done.
   */
  enter(run: () => void): void {
    if (this.#open) return run();
    if (this.#free > 0 && this.waiting === 0) {
      this.#free--;
      return run();
    }
    this.#waiting.push(run);
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
        next();
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
    for (const run of all) run();
  }
}
