/**
 * How many messages one IMAP fetch asks for. Large chunks keep the server
 * streaming; but a connection that keeps dropping before a whole chunk has
 * arrived would never commit anything. So the chunk halves after every
 * interrupted fetch (of what was asked for, down to `min`) and doubles back after `growAfter`
 * chunks in a row arrived whole (up to `max`).
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** Options of {@link ChunkSizePolicy}. */
export interface ChunkSizeOptions {
  /** Largest (and first) chunk. Must be >= 1. */
  readonly max: number;
  /** Smallest chunk. Default 1. */
  readonly min?: number;
  /** Whole chunks in a row before the size doubles. Default 2. */
  readonly growAfter?: number;
}

/** The fetch chunk size, shrinking after failures and growing back after successes. */
export class ChunkSizePolicy {
  readonly max: number;
  readonly min: number;
  readonly #growAfter: number;
  #size: number;
  #streak = 0;

  constructor(options: ChunkSizeOptions) {
    const min = options.min ?? 1;
    if (!Number.isInteger(options.max) || options.max < 1) {
      throw new InvalidArgumentError(
        `Cannot size chunks: max must be >= 1, current value is ${options.max}`,
      );
    }
    if (!Number.isInteger(min) || min < 1 || min > options.max) {
      throw new InvalidArgumentError(
        `Cannot size chunks: min must be in 1..${options.max}, current value is ${min}`,
      );
    }
    this.max = options.max;
    this.min = min;
    this.#growAfter = Math.max(1, options.growAfter ?? 2);
    this.#size = options.max;
  }

  /** Messages the next fetch asks for. */
  get size(): number {
    return this.#size;
  }

  /** A chunk arrived whole. */
  succeeded(): void {
    if (++this.#streak < this.#growAfter) return;
    this.#streak = 0;
    this.#size = Math.min(this.max, this.#size * 2);
  }

  /**
   * A fetch of `attempted` messages (default: the current size) was
   * interrupted (connection dropped, stalled, timed out). The next size is
   * half of what was really asked for: the last chunk of a round is often
   * smaller than the size, and halving the size alone would ask for the same
   * messages again.
   */
  failed(attempted = this.#size): void {
    this.#streak = 0;
    this.#size = Math.max(this.min, Math.floor(Math.min(this.#size, attempted) / 2));
  }
}
