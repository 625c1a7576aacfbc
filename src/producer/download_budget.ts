/**
 * The daily IMAP download budget of an account (`IMAP_DAILY_DOWNLOAD_MB`):
 * Gmail suspends IMAP for about a day once an account downloads about
 * 2,500 MB in 24 hours, so history backfill pauses when the account's last
 * 24 hourly download counters (`producer_bandwidth:{account}:{hour}`, written
 * after every commit, live and backfill alike) reach the budget, and resumes
 * when the oldest hour leaves the window. Live mail is never held back.
 * One budget per account, shared by its mailboxes' lanes: a `[THROTTLED]`
 * seen by one lane holds them all ({@link DownloadBudget.hold}), and no other
 * account.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { readDownloadedBytes } from "../metrics/bandwidth.ts";
import type { RedisClient } from "../redis/client.ts";

const HOUR_MS = 3_600_000;

/** Options of {@link DownloadBudget}. */
export interface DownloadBudgetOptions {
  readonly redis: RedisClient;
  readonly account: string;
  /** The account's partition (`partitionOf`); unset with one partition. */
  readonly partition?: number;
  /** Bytes the account may download per 24 hours before backfill pauses. */
  readonly dailyBytes: number;
  /** Clock in ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** One account's budget; see the module documentation. */
export class DownloadBudget {
  readonly dailyBytes: number;
  readonly #o: DownloadBudgetOptions;
  /** Clock time until which backfill holds (throttled); 0: no hold. */
  #heldUntil = 0;

  constructor(options: DownloadBudgetOptions) {
    if (!Number.isFinite(options.dailyBytes) || options.dailyBytes <= 0) {
      throw new InvalidArgumentError(
        `Cannot create budget: dailyBytes must be > 0, current value is ${options.dailyBytes}`,
      );
    }
    this.dailyBytes = options.dailyBytes;
    this.#o = options;
  }

  /** Holds the account's backfill for `ms` (Gmail throttles per account). */
  hold(ms: number): void {
    this.#heldUntil = Math.max(this.#heldUntil, this.#now() + ms);
  }

  /** How long the account's backfill still holds after a {@link hold}; 0 when it does not. */
  heldMs(): number {
    return Math.max(0, this.#heldUntil - this.#now());
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /** Bytes downloaded in the last 24 hourly buckets. */
  used(): Promise<number> {
    return readDownloadedBytes(this.#o.redis, this.#o.account, {
      hours: 24,
      now: this.#now(),
      partition: this.#o.partition,
    });
  }

  /**
   * How long backfill must wait before it may download again: 0 below the
   * budget, otherwise until the next hour, when the oldest bucket leaves the
   * window (checked again then: one hour may not free enough).
   */
  async pauseMs(): Promise<number> {
    if (await this.used() < this.dailyBytes) return 0;
    return HOUR_MS - (this.#now() % HOUR_MS) + 1_000;
  }
}
