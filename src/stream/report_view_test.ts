import assert from "node:assert/strict";
import type { StreamReport } from "./inspect.ts";
import { streamReportView } from "./report_view.ts";

const REPORT: StreamReport = {
  stream: "s",
  exists: true,
  length: 3,
  firstId: "1-0",
  lastId: "3-0",
  groups: [{
    name: "g",
    consumers: [{ name: "c", pending: 1, idleMs: 40 }],
    pending: 1,
    lag: 2,
    lastDeliveredId: "1-0",
    oldestPendingId: "1-0",
    oldestPendingAgeMs: 900,
    idleMs: 40,
    orphaned: false,
  }],
  dlq: { stream: "s:dlq", length: 0 },
  tail: [{ id: "3-0", fields: { type: "email" } }],
};

Deno.test("streamReportView() has snake_case keys only, with every value of the report", () => {
  const view = streamReportView(REPORT);
  assert.deepEqual(view.groups[0], {
    name: "g",
    pending: 1,
    lag: 2,
    last_delivered_id: "1-0",
    oldest_pending_id: "1-0",
    oldest_pending_age_ms: 900,
    idle_ms: 40,
    orphaned: false,
    consumers: [{ name: "c", pending: 1, idle_ms: 40 }],
  });
  assert.equal(view.first_id, "1-0");
  assert.equal(view.last_id, "3-0");
  const keys = JSON.stringify(view).match(/"[A-Za-z_]+":/g) ?? [];
  for (const key of keys) assert.doesNotMatch(key, /[A-Z]/, key);
});
