/**
 * The worker's periodic chores, each on a cadence of its own: claim retries
 * that came due, take over entries stalled on other consumers, renew the
 * leases of this worker's own entries in hand, prune idle consumers and
 * expired processed-records. The cadences are named here, once; the chores
 * themselves are the caller's ({@link MaintenanceChores}), so this is plain
 * scheduling, testable with a fake clock.
 *
 * @module
 */

import { numericDefault } from "../config/variables.ts";

/** How often the retry schedule is polled when no due time is known sooner. */
export const DUE_RETRY_POLL_MS = 200;
/** Stalled-entry scans run at least this far apart... */
export const STALLED_SCAN_MIN_MS = 200;
/** ...and at most this far apart (otherwise every half visibility timeout). */
export const STALLED_SCAN_MAX_MS = 5_000;
/** Idle consumers are looked for at most this far apart (otherwise every half idle timeout). */
export const CONSUMER_PRUNE_MAX_MS = 60_000;
/** Default of `consumerIdleTimeoutMs`: a consumer idle 1 h with nothing pending is removed. */
export const DEFAULT_CONSUMER_IDLE_TIMEOUT_MS =
  numericDefault("WORKER_CONSUMER_IDLE_TIMEOUT_SECONDS") * 1000;
/**
 * After a Redis failure, how long before stalled entries of other consumers
 * are reclaimed: longer than the reconnect backoff cap of
 * src/redis/connection.ts (5 s), so their owners can reconnect and renew
 * their leases first.
 */
export const RECONNECT_GRACE_MS = 6_000;

/** The intervals of each chore, ms. */
export interface MaintenanceCadences {
  /** Poll of the retry schedule. */
  readonly dueRetriesMs: number;
  /** Scan for stalled entries of other consumers. */
  readonly stalledMs: number;
  /** Renewal of this worker's leases (a third of the visibility timeout). */
  readonly leasesMs: number;
  /** Removal of idle consumers. */
  readonly pruneMs: number;
}

/** The cadences for a visibility timeout and a consumer idle timeout (both ms). */
export function maintenanceCadences(
  visibilityMs: number,
  consumerIdleTimeoutMs = DEFAULT_CONSUMER_IDLE_TIMEOUT_MS,
): MaintenanceCadences {
  return {
    dueRetriesMs: DUE_RETRY_POLL_MS,
    stalledMs: Math.max(STALLED_SCAN_MIN_MS, Math.min(visibilityMs / 2, STALLED_SCAN_MAX_MS)),
    leasesMs: visibilityMs / 3,
    pruneMs: Math.min(CONSUMER_PRUNE_MAX_MS, consumerIdleTimeoutMs / 2),
  };
}

/** What the chores do; supplied by the worker. */
export interface MaintenanceChores {
  /** Handlers that may start now (0: claim nothing). */
  free(): number;
  /** Claims and starts up to `count` retries due at `now`. */
  takeDueRetries(now: number, count: number): Promise<void>;
  /** Due time of the earliest scheduled retry. */
  nextRetryDue(): Promise<number | undefined>;
  /** Claims and starts up to `count` stalled entries. */
  reclaimStalled(count: number): Promise<void>;
  /** Claims back and starts up to `count` of this consumer's own entries nothing holds; how many. */
  reclaimOwnOrphans(count: number): Promise<number>;
  /** Renews the leases of entries in hand untouched for `leasesMs`. */
  extendLeases(now: number): Promise<void>;
  /** Removes idle consumers and the processed-records expired at `now`. */
  prune(now: number): Promise<void>;
}

/** Options of {@link Maintenance}. */
export interface MaintenanceOptions {
  /** See {@link maintenanceCadences}. */
  cadences: MaintenanceCadences;
  /** The chores. */
  chores: MaintenanceChores;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
}

/** Runs each chore when its cadence says so. */
export class Maintenance {
  readonly #cadences: MaintenanceCadences;
  readonly #chores: MaintenanceChores;
  readonly #now: () => number;
  #nextDue: number | undefined;
  #dueCheckedAt = 0;
  #stalledCheckedAt = 0;
  #leasesCheckedAt = 0;
  #prunedAt = 0;
  /**
   * This consumer may have pending entries it does not hold: at start (left by
   * an earlier process of its name) and after a Redis failure (a read whose
   * reply was lost). They are claimed back at the next run, and looked for on
   * the stalled-entry cadence as well (a client that re-sent a read after a
   * failover raised no error), not only after the visibility timeout.
   */
  #ownOrphansPossible = true;
  #ownCheckedAt = 0;

  constructor(options: MaintenanceOptions) {
    this.#cadences = options.cadences;
    this.#chores = options.chores;
    this.#now = options.now ?? Date.now;
  }

  /** Due time of the earliest known retry, `undefined` when none. */
  get nextDue(): number | undefined {
    return this.#nextDue;
  }

  /** A retry was scheduled for `dueAt`: the schedule is polled then at the latest. */
  retryScheduled(dueAt: number): void {
    this.#nextDue = Math.min(this.#nextDue ?? Infinity, dueAt);
  }

  /**
   * Redis failed: entries' idle times kept growing meanwhile. Renew this
   * worker's leases at the next run, and scan for others' stalled entries
   * only {@link RECONNECT_GRACE_MS} (or a lease period, if longer) plus one
   * scan interval from now, after their owners had time to reconnect and
   * renew their leases.
   */
  afterRedisFailure(): void {
    this.#ownOrphansPossible = true;
    this.#leasesCheckedAt = 0;
    this.#stalledCheckedAt = this.#now() +
      Math.max(this.#cadences.leasesMs, RECONNECT_GRACE_MS);
  }

  /**
   * Runs the chores whose time has come, in order: own orphans (when there may
   * be some), due retries, stalled, leases, pruning.
   */
  async run(): Promise<void> {
    const now = this.#now();
    const free = () => this.#chores.free();
    const c = this.#cadences;
    const room = free();
    if (room > 0 && (this.#ownOrphansPossible || now - this.#ownCheckedAt >= c.stalledMs)) {
      this.#ownCheckedAt = now;
      this.#ownOrphansPossible = await this.#chores.reclaimOwnOrphans(room) === room;
    }
    if (
      now - this.#dueCheckedAt >= c.dueRetriesMs ||
      (this.#nextDue !== undefined && now >= this.#nextDue)
    ) {
      this.#dueCheckedAt = now;
      if (free() > 0) await this.#chores.takeDueRetries(now, free());
      this.#nextDue = await this.#chores.nextRetryDue();
    }
    if (now - this.#stalledCheckedAt >= c.stalledMs) {
      this.#stalledCheckedAt = now;
      if (free() > 0) await this.#chores.reclaimStalled(free());
    }
    if (now - this.#leasesCheckedAt >= c.leasesMs) {
      this.#leasesCheckedAt = now;
      await this.#chores.extendLeases(now);
    }
    if (now - this.#prunedAt >= c.pruneMs) {
      this.#prunedAt = now;
      await this.#chores.prune(now);
    }
  }
}
