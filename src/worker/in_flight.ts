/**
 * The entries a worker has in hand: running in a handler or waiting for
 * their settle. Each id runs once at a time; an entry claimed again while
 * its previous run still settles (a retry due at once) runs right after.
 * Tracks when each entry's lease was last renewed.
 *
 * @module
 */

import type { ClaimedEntry } from "./consumer_group.ts";
import type { HandledListener } from "./entry_handler.ts";

/** Options of {@link InFlightEntries}. */
export interface InFlightOptions {
  /** Runs entries to their outcomes, telling `listener` of each once. */
  handle: (entries: readonly ClaimedEntry[], listener: HandledListener) => void;
  /** An entry's settle failed for good: it stays pending in the group. */
  onFailed: (id: string, error: unknown) => void;
  /** An entry left the worker's hands. */
  onFinished: () => void;
  /** Clock in ms. */
  now: () => number;
}

/** Entries in hand, by id. */
export class InFlightEntries {
  readonly #o: InFlightOptions;
  /** When each entry's lease was last renewed (ms), by id. */
  readonly #touchedAt = new Map<string, number>();
  readonly #claimedAgain = new Map<string, ClaimedEntry>();
  readonly #listener: HandledListener = {
    done: (id) => this.#finished(id),
    failed: (id, error) => {
      this.#o.onFailed(id, error);
      this.#finished(id);
    },
  };

  constructor(options: InFlightOptions) {
    this.#o = options;
  }

  /** How many entries are in hand. */
  get size(): number {
    return this.#touchedAt.size;
  }

  /** Ids of the entries in hand. */
  ids(): string[] {
    return [...this.#touchedAt.keys()];
  }

  /** Starts handling `entries` (each queued behind its own previous run, if any). */
  dispatch(entries: readonly ClaimedEntry[]): void {
    const now = this.#o.now();
    const fresh: ClaimedEntry[] = [];
    for (const entry of entries) {
      if (this.#touchedAt.has(entry.id)) {
        // Claimed again while its previous run is still settling (a retry due at
        // once): run it right after, or it would sit claimed but unhandled.
        this.#claimedAgain.set(entry.id, entry);
        continue;
      }
      this.#touchedAt.set(entry.id, now);
      fresh.push(entry);
    }
    if (fresh.length > 0) this.#o.handle(fresh, this.#listener);
  }

  #finished(id: string): void {
    this.#touchedAt.delete(id);
    const again = this.#claimedAgain.get(id);
    if (again !== undefined) {
      this.#claimedAgain.delete(id);
      this.dispatch([again]);
    }
    this.#o.onFinished();
  }

  /** Ids whose lease was last renewed `everyMs` or more before `now`. */
  leasesDue(now: number, everyMs: number): string[] {
    const due: string[] = [];
    for (const [id, touchedAt] of this.#touchedAt) if (now - touchedAt >= everyMs) due.push(id);
    return due;
  }

  /** The leases of `ids` were renewed at `now`. */
  touched(ids: readonly string[], now: number): void {
    for (const id of ids) if (this.#touchedAt.has(id)) this.#touchedAt.set(id, now);
  }
}
