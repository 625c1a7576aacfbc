import assert from "node:assert/strict";
import { combineReadiness, combineSummaries, combineWorkerStatus } from "./partitioned_status.ts";
import { partitionConcurrency, partitionObservers } from "./partition_readers.ts";
import type { PartitionWorkerStatus } from "./partitioned_status.ts";

function row(
  partition: number,
  overrides: Partial<PartitionWorkerStatus> = {},
): PartitionWorkerStatus {
  return {
    partition,
    state: "running",
    stream: `s:{p${partition}}`,
    group: "g",
    consumer: "c",
    sink: "file",
    concurrency: 8,
    in_flight: partition,
    unsettled: 0,
    counts: {
      processed: 10 * partition,
      duplicates: 1,
      retries_scheduled: 0,
      dead_lettered: 0,
      reclaimed: 0,
    },
    started_at: "2026-01-01T00:00:00.000Z",
    last_heartbeat_at: `2026-01-01T00:00:0${partition}.000Z`,
    last_error: null,
    ...overrides,
  };
}

Deno.test("combineWorkerStatus() adds counts up and shows the oldest heartbeat and the first error", () => {
  const status = combineWorkerStatus("s", [row(0), row(1, { last_error: "boom" }), row(2)]);
  assert.equal(status.stream, "s");
  assert.equal(status.concurrency, 24);
  assert.equal(status.in_flight, 3);
  assert.equal(status.counts.processed, 30);
  assert.equal(status.counts.duplicates, 3);
  assert.equal(status.last_heartbeat_at, "2026-01-01T00:00:00.000Z");
  assert.equal(status.last_error, "partition 1: boom");
  assert.equal(status.partitions.length, 3);
});

Deno.test("combineWorkerStatus() is starting while any partition starts, null heartbeat before all beat", () => {
  const status = combineWorkerStatus("s", [
    row(0),
    row(1, { state: "starting", last_heartbeat_at: null }),
  ]);
  assert.equal(status.state, "starting");
  assert.equal(status.last_heartbeat_at, null);
  assert.equal(combineWorkerStatus("s", [row(0, { state: "stopped" })]).state, "stopped");
});

Deno.test("combineReadiness() is ready only when every partition is, naming the others", () => {
  const ok = { ready: true, checks: { loop: { ok: true }, group: { ok: true } } };
  const stuck = {
    ready: false,
    checks: { loop: { ok: false, detail: "stuck" }, group: { ok: true } },
  };
  assert.equal(combineReadiness([ok, ok]).ready, true);
  const verdict = combineReadiness([ok, stuck]);
  assert.equal(verdict.ready, false);
  assert.equal(verdict.checks.loop.detail, "partition 1: stuck");
  assert.equal(combineReadiness([stuck]).checks.loop.detail, "stuck");
});

Deno.test("combineSummaries() drains only when every partition drained", () => {
  const summary = (stoppedBy: "drain" | "signal") => ({
    processed: 2,
    duplicates: 0,
    retriesScheduled: 1,
    deadLettered: 1,
    reclaimed: 0,
    stoppedBy,
    abandoned: 0,
  });
  assert.equal(combineSummaries([summary("drain"), summary("drain")]).stoppedBy, "drain");
  assert.equal(combineSummaries([summary("drain"), summary("signal")]).stoppedBy, "signal");
  assert.equal(combineSummaries([summary("drain"), summary("drain")]).deadLettered, 2);
});

Deno.test("partitionObservers() sums unsettled and beats once every partition has beaten", () => {
  const unsettled: number[] = [];
  let beats = 0;
  const [a, b] = partitionObservers({
    unsettled: (n) => unsettled.push(n),
    heartbeat: () => beats++,
  }, 2);
  a!.unsettled!(2);
  b!.unsettled!(3);
  a!.unsettled!(0);
  assert.deepEqual(unsettled, [2, 5, 3]);
  a!.heartbeat!();
  a!.heartbeat!();
  assert.equal(beats, 0, "partition 1 has not run yet");
  b!.heartbeat!();
  assert.equal(beats, 1);
});

Deno.test("partitionConcurrency() splits the process's concurrency, rounding up, at least 1", () => {
  assert.equal(partitionConcurrency(8, 1), 8);
  assert.equal(partitionConcurrency(64, 6), 11);
  assert.equal(partitionConcurrency(8, 6), 2);
  assert.equal(partitionConcurrency(1, 6), 1);
});
