import assert from "node:assert/strict";
import { workerStatusView } from "./status_view.ts";

const snapshot = {
  state: "running" as const,
  stream: "s",
  group: "g",
  consumer: "c",
  sink: "file",
  concurrency: 8,
  inFlight: 2,
  unsettled: 1,
  counts: { processed: 5, duplicates: 1, retriesScheduled: 2, deadLettered: 3, reclaimed: 4 },
  startedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  lastBeat: undefined,
  lastError: "boom",
};

Deno.test("workerStatusView() serves every key in snake_case", () => {
  const view = workerStatusView(snapshot);
  assert.deepEqual(JSON.parse(JSON.stringify(view)), {
    state: "running",
    stream: "s",
    group: "g",
    consumer: "c",
    sink: "file",
    concurrency: 8,
    in_flight: 2,
    unsettled: 1,
    counts: { processed: 5, duplicates: 1, retries_scheduled: 2, dead_lettered: 3, reclaimed: 4 },
    started_at: "2026-01-02T03:04:05.000Z",
    last_heartbeat_at: null,
    last_error: "boom",
  });
});

Deno.test("workerStatusView() gives the last heartbeat as an ISO time once the loop ran", () => {
  const view = workerStatusView({ ...snapshot, lastBeat: Date.UTC(2026, 0, 2, 3, 4, 6) });
  assert.equal(view.last_heartbeat_at, "2026-01-02T03:04:06.000Z");
});
