/**
 * Orphaned consumer groups: a group nobody reads any more (its workers are
 * gone, or it was created by a one-off `ingest work --group typo`) still
 * keeps every entry it has not acknowledged from being trimmed, and its
 * backlog pauses the producer. A group is orphaned when no consumer of it was
 * active within the threshold (`GROUP_ORPHAN_SECONDS`) and the oldest entry
 * waiting for it (pending, or not yet delivered) is older than the threshold.
 * A caught-up group holds nothing back and is not reported.
 *
 * @module
 */

import { streamIdTime } from "../redis/reply.ts";

/** What the verdict needs to know about a group. */
export interface OrphanFacts {
  /** Milliseconds since each consumer last read or claimed. */
  readonly consumerIdleMs: readonly number[];
  /** Oldest entry delivered and not acknowledged; `null` when none. */
  readonly oldestPendingId: string | null;
  /** First entry after the group's last-delivered id; `null` when none. */
  readonly firstUndeliveredId: string | null;
}

/** The verdict on one group. */
export interface OrphanVerdict {
  /** Milliseconds since the most recent consumer activity; `null` without consumers. */
  readonly idleMs: number | null;
  /** Age in ms of the oldest entry waiting for the group; `null` when nothing waits. */
  readonly waitingMs: number | null;
  /** Unattended for longer than the threshold while entries wait. */
  readonly orphaned: boolean;
}

/** Judges a group against `thresholdMs` at time `now` (ms). */
export function orphanVerdict(facts: OrphanFacts, thresholdMs: number, now: number): OrphanVerdict {
  const idleMs = facts.consumerIdleMs.length === 0 ? null : Math.min(...facts.consumerIdleMs);
  const waitingIds = [facts.oldestPendingId, facts.firstUndeliveredId].filter(
    (id): id is string => id !== null,
  );
  const waitingMs = waitingIds.length === 0
    ? null
    : Math.max(0, now - Math.min(...waitingIds.map(streamIdTime)));
  const unattended = idleMs === null || idleMs > thresholdMs;
  return {
    idleMs,
    waitingMs,
    orphaned: unattended && waitingMs !== null && waitingMs > thresholdMs,
  };
}
