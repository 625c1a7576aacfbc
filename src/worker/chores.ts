/**
 * The worker's maintenance chores, as the {@link Maintenance} schedule calls
 * them: claim due retries and stalled entries and start them, renew the
 * leases of entries in hand, prune idle consumers and expired
 * processed-records.
 *
 * @module
 */

import type { Logger } from "../log/logger.ts";
import type { WorkerObserver } from "../observe/events.ts";
import type { ClaimedEntry } from "./claim.ts";
import type { ConsumerGroup } from "./consumer_group.ts";
import type { InFlightEntries } from "./in_flight.ts";
import { DEFAULT_CONSUMER_IDLE_TIMEOUT_MS, type MaintenanceChores } from "./maintenance.ts";
import type { WorkerCounts } from "./worker_types.ts";

/** What the chores work with. */
export interface ChoresOptions {
  /** The consumer group. */
  group: ConsumerGroup;
  /** Entries in hand; claimed entries are dispatched here. */
  inFlight: InFlightEntries;
  /** Handlers that may start now. */
  free: () => number;
  /** Counters of the run (`reclaimed`). */
  counts: WorkerCounts;
  /** Metrics hooks. */
  observer: WorkerObserver;
  /** The worker's logger. */
  logger: Logger;
  /** An entry idle this long on another consumer is taken over; leases are renewed every third. */
  visibilityMs: number;
  /** Consumers idle this long with nothing pending are removed. Default 1 h. */
  consumerIdleTimeoutMs?: number;
}

/** The chores of one worker. */
export function workerChores(options: ChoresOptions): MaintenanceChores {
  const { group, inFlight, visibilityMs } = options;
  const started = (claimed: readonly ClaimedEntry[], message: string) => {
    if (claimed.length === 0) return;
    options.counts.reclaimed += claimed.length;
    options.observer.reclaimed?.(claimed.length);
    options.logger.info(message, { count: claimed.length, ids: claimed.map((e) => e.id) });
    inFlight.dispatch(claimed);
  };
  return {
    free: options.free,
    takeDueRetries: async (now, count) => {
      inFlight.dispatch(await group.takeDueRetries(now, count));
    },
    nextRetryDue: () => group.nextRetryDue(),
    reclaimStalled: async (count) => {
      started(
        await group.reclaimStalled(visibilityMs, count, inFlight.ids()),
        "reclaimed stalled entries",
      );
    },
    reclaimOwnOrphans: async (count) => {
      const claimed = await group.reclaimOwnOrphans(count, inFlight.ids());
      started(claimed, "claimed back own pending entries that nothing held");
      return claimed.length;
    },
    extendLeases: (now) => extendLeases(group, inFlight, now, visibilityMs / 3),
    prune: async (now) => {
      const idle = options.consumerIdleTimeoutMs ?? DEFAULT_CONSUMER_IDLE_TIMEOUT_MS;
      const removed = await group.pruneIdleConsumers(idle);
      if (removed.length > 0) options.logger.info("removed idle consumers", { consumers: removed });
      const expired = await group.pruneExpiredRecords(now);
      if (expired > 0) {
        options.logger.debug("removed expired processed-records", { count: expired });
      }
    },
  };
}

/** Renews the leases of entries in hand not touched for `everyMs`. */
export async function extendLeases(
  group: ConsumerGroup,
  inFlight: InFlightEntries,
  now: number,
  everyMs: number,
): Promise<void> {
  const due = inFlight.leasesDue(now, everyMs);
  if (due.length === 0) return;
  await group.extendLeases(due);
  inFlight.touched(due, now);
}
