/**
 * Settling an entry (acknowledge, schedule a retry, dead-letter) after its
 * handler ran, retried for as long as Redis refuses it for a reason that
 * passes: out of memory (`noeviction` past `maxmemory`), an outage, loading,
 * a read-only replica. While a settle waits the entry stays in this worker's
 * hands (its lease keeps being renewed, so nobody reclaims it), the outcome of
 * its handler is kept in memory, and the worker takes no new work: a handler
 * that succeeded is never run again while this worker lives.
 *
 * @module
 */

import { IngestError } from "../errors.ts";
import {
  classifyRedisFailure,
  describeRedisFailure,
  type RedisFailureKind,
} from "../redis/redis_failure.ts";
import { backoffDelay, sleep } from "../retry/backoff.ts";

/** The settle was given up (shutdown timeout): the entry stays pending in the group. */
export class SettleAbandonedError extends IngestError {
  /** The entry that could not be settled. */
  readonly entryId: string;

  /** A settle given up on `entryId`. */
  constructor(entryId: string, options?: { cause?: unknown }) {
    super(
      "SETTLE_ABANDONED",
      `Gave up settling entry ${entryId} at shutdown: it stays pending and will be delivered again`,
      false,
      options,
    );
    this.entryId = entryId;
  }
}

/** Options of {@link Settlements}. */
export interface SettlementsOptions {
  /** Stops every waiting settle with a {@link SettleAbandonedError} (the shutdown timeout). */
  signal: AbortSignal;
  /** First wait after a refused settle, ms. Default 200. */
  baseMs?: number;
  /** Longest wait between tries, ms. Default 2000. */
  capMs?: number;
  /** Jitter source. Default `Math.random`. */
  random?: () => number;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
  /** Called on the first refused settle while none was waiting (the worker stops taking work). */
  onBlocked?: (entryId: string, error: string) => void;
  /** Called when the last waiting settle went through, with how long settles were blocked. */
  onUnblocked?: (blockedMs: number, settled: number) => void;
  /** Called on every refused try; `kind` is what the Redis failure classifier made of it. */
  onRefused?: (
    entryId: string,
    error: string,
    tries: number,
    retryInMs: number,
    kind: RedisFailureKind,
  ) => void;
  /** Called whenever the number of waiting entries changes. */
  onWaitingChanged?: (waiting: number) => void;
}

/** A settle that Redis refused and that is being retried. */
interface Waiting {
  readonly since: number;
  tries: number;
  error: string;
}

/** Runs settle steps, retrying those Redis refuses for a passing reason. */
export class Settlements {
  readonly #o: SettlementsOptions;
  readonly #now: () => number;
  readonly #waiting = new Map<string, Waiting>();
  #blockedSince: number | undefined;
  #settledWhileBlocked = 0;

  constructor(options: SettlementsOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** How many entries wait for a settle Redis refused; above 0 the worker takes no new work. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Why settles are blocked (for `/ready` and `/status`), `undefined` when none waits. */
  describe(): string | undefined {
    if (this.#blockedSince === undefined || this.#waiting.size === 0) return undefined;
    const last = [...this.#waiting.values()].at(-1)!;
    const seconds = Math.round((this.#now() - this.#blockedSince) / 1000);
    return `${this.#waiting.size} handled entr${this.#waiting.size === 1 ? "y" : "ies"} ` +
      `cannot be settled for ${seconds} s (not taking new work): ${last.error}`;
  }

  /**
   * Runs `step` for `entryId` until it succeeds. A failure that classifies as
   * passing (OOM, unreachable, loading, read-only, busy) is retried with
   * capped backoff; any other failure is thrown at once; the signal ends the
   * wait with a {@link SettleAbandonedError}.
   */
  settle<T>(entryId: string, step: () => Promise<T>): Promise<T> {
    return this.settleMany([entryId], step);
  }

  /**
   * {@link settle} for one step that settles several entries at once (one
   * script for a batch): while Redis refuses it, every one of `entryIds`
   * counts as waiting.
   */
  async settleMany<T>(entryIds: readonly string[], step: () => Promise<T>): Promise<T> {
    for (let tries = 0;; tries++) {
      if (this.#o.signal.aborted) throw this.#abandon(entryIds);
      try {
        const value = await step();
        this.#settled(entryIds);
        return value;
      } catch (error) {
        const failure = classifyRedisFailure(error);
        if (!failure.retryable || failure.kind === "other") {
          this.#settled(entryIds);
          throw error;
        }
        const delay = backoffDelay(tries, {
          baseMs: this.#o.baseMs ?? 200,
          capMs: this.#o.capMs ?? 2_000,
          random: this.#o.random,
        });
        this.#refused(entryIds, describeRedisFailure(error), tries + 1, delay, failure.kind);
        await sleep(delay, this.#o.signal).catch(() => {});
      }
    }
  }

  #refused(
    entryIds: readonly string[],
    error: string,
    tries: number,
    retryInMs: number,
    kind: RedisFailureKind,
  ): void {
    const before = this.#waiting.size;
    for (const entryId of entryIds) {
      const waiting = this.#waiting.get(entryId);
      if (waiting) {
        waiting.tries = tries;
        waiting.error = error;
      } else {
        this.#waiting.set(entryId, { since: this.#now(), tries, error });
      }
    }
    if (this.#waiting.size !== before) this.#o.onWaitingChanged?.(this.#waiting.size);
    const first = entryIds[0] ?? "";
    if (this.#blockedSince === undefined) {
      this.#blockedSince = this.#now();
      this.#settledWhileBlocked = 0;
      this.#o.onBlocked?.(first, error);
    }
    this.#o.onRefused?.(first, error, tries, retryInMs, kind);
  }

  #settled(entryIds: readonly string[]): void {
    if (this.#waiting.size === 0) return; // the common case: nothing was ever refused
    let settled = 0;
    for (const entryId of entryIds) if (this.#waiting.delete(entryId)) settled++;
    if (settled === 0) return;
    this.#o.onWaitingChanged?.(this.#waiting.size);
    this.#settledWhileBlocked += settled;
    if (this.#waiting.size === 0 && this.#blockedSince !== undefined) {
      const blockedMs = this.#now() - this.#blockedSince;
      this.#blockedSince = undefined;
      this.#o.onUnblocked?.(blockedMs, this.#settledWhileBlocked);
    }
  }

  #abandon(entryIds: readonly string[]): SettleAbandonedError {
    const first = entryIds[0] ?? "";
    const waiting = this.#waiting.get(first);
    this.#settled(entryIds);
    return new SettleAbandonedError(first, { cause: waiting?.error });
  }
}
