/**
 * The quick versions of the IMAP fault scenarios (tests/faults/imap.ts),
 * asserting on their reports: counts read back from Redis, exit codes, and
 * how soon `/ready` and the stream noticed. `deno run -A scripts/faults.ts`
 * runs the full-size versions.
 */

import assert from "node:assert/strict";
import { IMAP_SCENARIOS } from "./faults/imap.ts";
import type { FaultReport } from "./faults/scenario.ts";

async function run(name: string): Promise<FaultReport> {
  const scenario = IMAP_SCENARIOS.find((s) => s.name === name);
  assert.ok(scenario, `no scenario ${name}`);
  const report = await scenario.run({ quick: true, seed: 1, log: () => {} });
  console.log(JSON.stringify(report));
  assert.deepEqual(report.problems, []);
  assert.equal(report.ok, true);
  assert.equal(report.duplicates, 0);
  assert.equal(report.distinct_entries, report.mailbox_messages);
  return report;
}

Deno.test("imap_drop: connections dropped every 20-200 kB, produce --once still exits 0 with each message once, and a live producer delivers new mail", async () => {
  const report = await run("imap_drop");
  assert.equal(report.details.exit_code, 0);
  assert.ok((report.details.dropped_connections as number) >= 2, "the proxy dropped connections");
  // Then a live (IDLE) producer under drops every 4-12 kB delivers new mail and stops cleanly.
  assert.ok((report.details.live_dropped_connections as number) >= 2);
  assert.equal(report.details.live_exit_code_on_sigterm, 0);
});

Deno.test("imap_stall: a FETCH stalled with the socket open is reopened and /ready says 503 meanwhile", async () => {
  const report = await run("imap_stall");
  assert.equal(report.details.exit_code, 0);
  // IMAP_COMMAND_TIMEOUT_SECONDS=2 in the quick version.
  assert.ok((report.details.ready_503_after_stall_s as number) <= 10);
  assert.ok((report.details.reconnect_after_stall_s as number) <= 15);
});

Deno.test("imap_blackhole_idle: a black-holed IDLE is found by the NOOP check and the next message arrives", async () => {
  const report = await run("imap_blackhole_idle");
  // IMAP_IDLE_CHECK_SECONDS=2, IMAP_COMMAND_TIMEOUT_SECONDS=2 in the quick version.
  assert.ok(report.recovery_seconds !== null && report.recovery_seconds <= 15);
  assert.notEqual(report.details.ready_503_after_s, null, "/ready went 503 while it was down");
});
