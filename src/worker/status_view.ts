/**
 * The worker's `/status` view: its JSON as served, snake_case keys, built
 * from the worker's live state in one place.
 *
 * @module
 */

import type { WorkerCounts, WorkerState, WorkerStatus } from "./worker_types.ts";

/** What the worker knows about itself at one moment (times in Unix ms). */
export interface WorkerSnapshot {
  readonly state: WorkerState;
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly sink: string;
  readonly concurrency: number;
  readonly inFlight: number;
  readonly unsettled: number;
  readonly counts: Readonly<WorkerCounts>;
  readonly startedAt: number;
  /** Last loop iteration, `undefined` before the first. */
  readonly lastBeat: number | undefined;
  readonly lastError: string | null;
}

/** The `/status` view of `snapshot`. */
export function workerStatusView(snapshot: WorkerSnapshot): WorkerStatus {
  const { counts } = snapshot;
  return {
    state: snapshot.state,
    stream: snapshot.stream,
    group: snapshot.group,
    consumer: snapshot.consumer,
    sink: snapshot.sink,
    concurrency: snapshot.concurrency,
    in_flight: snapshot.inFlight,
    unsettled: snapshot.unsettled,
    counts: {
      processed: counts.processed,
      duplicates: counts.duplicates,
      retries_scheduled: counts.retriesScheduled,
      dead_lettered: counts.deadLettered,
      reclaimed: counts.reclaimed,
    },
    started_at: new Date(snapshot.startedAt).toISOString(),
    last_heartbeat_at: snapshot.lastBeat === undefined
      ? null
      : new Date(snapshot.lastBeat).toISOString(),
    last_error: snapshot.lastError,
  };
}
