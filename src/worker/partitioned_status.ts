/**
 * One view of a worker that reads several partitions: the partition
 * workers' `/status` and `/ready` combined (totals, the most worrying state,
 * the oldest heartbeat) with one row per partition, and their summaries
 * added up.
 *
 * @module
 */

import type {
  WorkerCheck,
  WorkerReadiness,
  WorkerState,
  WorkerStatus,
  WorkerSummary,
} from "./worker_types.ts";

/** One partition's row of {@link PartitionedWorkerStatus}. */
export interface PartitionWorkerStatus extends WorkerStatus {
  /** The partition's index, 0 .. N-1. */
  readonly partition: number;
}

/** `/status` of a worker over partitions: totals as one worker, plus a row per partition. */
export interface PartitionedWorkerStatus extends WorkerStatus {
  /** One row per partition, in index order (one row without partitioning). */
  readonly partitions: readonly PartitionWorkerStatus[];
}

const STATE_ORDER: readonly WorkerState[] = ["starting", "stopping", "running", "stopped"];

/** The state that needs attention first: any starting, then stopping, then running. */
function combinedState(states: readonly WorkerState[]): WorkerState {
  return STATE_ORDER.find((state) => states.includes(state)) ?? "stopped";
}

/** The earliest ISO time, `null` when any is `null` (a partition that has not beaten yet). */
function oldest(times: readonly (string | null)[]): string | null {
  if (times.some((time) => time === null)) return null;
  return [...times as string[]].sort()[0] ?? null;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** Combines the partition workers' statuses; `stream` is the stream's base name. */
export function combineWorkerStatus(
  stream: string,
  rows: readonly PartitionWorkerStatus[],
): PartitionedWorkerStatus {
  const first = rows[0]!;
  const lastError = rows.find((row) => row.last_error !== null);
  const label = (
    row: PartitionWorkerStatus,
  ) => (rows.length > 1 ? `partition ${row.partition}: ` : "");
  return {
    state: combinedState(rows.map((row) => row.state)),
    stream,
    group: first.group,
    consumer: first.consumer,
    sink: first.sink,
    concurrency: sum(rows.map((row) => row.concurrency)),
    in_flight: sum(rows.map((row) => row.in_flight)),
    unsettled: sum(rows.map((row) => row.unsettled)),
    counts: {
      processed: sum(rows.map((row) => row.counts.processed)),
      duplicates: sum(rows.map((row) => row.counts.duplicates)),
      retries_scheduled: sum(rows.map((row) => row.counts.retries_scheduled)),
      dead_lettered: sum(rows.map((row) => row.counts.dead_lettered)),
      reclaimed: sum(rows.map((row) => row.counts.reclaimed)),
    },
    started_at: oldest(rows.map((row) => row.started_at)) ?? first.started_at,
    last_heartbeat_at: oldest(rows.map((row) => row.last_heartbeat_at)),
    last_error: lastError === undefined ? null : label(lastError) + lastError.last_error,
    partitions: rows,
  };
}

/** One check over every partition: ok when all are; the failing ones named. */
function combinedCheck(checks: readonly WorkerCheck[], labels: readonly string[]): WorkerCheck {
  const failed = checks.flatMap((check, i) =>
    check.ok ? [] : [`${labels[i]}${check.detail ?? "failed"}`]
  );
  return failed.length === 0 ? { ok: true } : { ok: false, detail: failed.join("; ") };
}

/** Ready when every partition worker is ready. */
export function combineReadiness(verdicts: readonly WorkerReadiness[]): WorkerReadiness {
  const labels = verdicts.map((_, i) => (verdicts.length > 1 ? `partition ${i}: ` : ""));
  const loop = combinedCheck(verdicts.map((v) => v.checks.loop), labels);
  const group = combinedCheck(verdicts.map((v) => v.checks.group), labels);
  return { ready: loop.ok && group.ok, checks: { loop, group } };
}

/** The partition workers' summaries added up; `drain` only when every partition drained. */
export function combineSummaries(summaries: readonly WorkerSummary[]): WorkerSummary {
  return {
    processed: sum(summaries.map((s) => s.processed)),
    duplicates: sum(summaries.map((s) => s.duplicates)),
    retriesScheduled: sum(summaries.map((s) => s.retriesScheduled)),
    deadLettered: sum(summaries.map((s) => s.deadLettered)),
    reclaimed: sum(summaries.map((s) => s.reclaimed)),
    stoppedBy: summaries.every((s) => s.stoppedBy === "drain") ? "drain" : "signal",
    abandoned: sum(summaries.map((s) => s.abandoned)),
  };
}
