/**
 * The quick versions of the Redis- and sink-side fault scenarios
 * (tests/faults/redis_worker.ts), asserting on the same reports that
 * `deno run -A scripts/faults.ts` prints.
 */

import assert from "node:assert/strict";
import { REDIS_WORKER_SCENARIOS } from "./faults/redis_worker.ts";
import type { FaultReport } from "./faults/scenario.ts";

async function run(name: string): Promise<FaultReport> {
  const scenario = REDIS_WORKER_SCENARIOS.find((s) => s.name === name);
  assert.ok(scenario, `scenario ${name} exists`);
  const report = await scenario.run({ quick: true, seed: 1, log: () => {} });
  assert.equal(report.scenario, name);
  assert.deepEqual(report.problems, [], JSON.stringify(report, null, 2));
  assert.ok(report.ok);
  return report;
}

Deno.test("redis_oom_produce: the producer names the OOM, resumes, and publishes each message once", async () => {
  const report = await run("redis_oom_produce");
  assert.equal(report.distinct_entries, report.mailbox_messages);
  assert.equal(report.duplicates, 0);
  assert.ok(Number(report.details.in_stream_when_full) < report.mailbox_messages);
  assert.ok(Number(report.details.oom_log_lines) > 0);
  assert.notEqual(report.recovery_seconds, null);
  assert.equal(report.details.producer_exit_code, 0);
});

Deno.test("redis_oom_work: workers on a full Redis deliver each entry once, truthfully, none to the DLQ", async () => {
  const report = await run("redis_oom_work");
  assert.equal(report.sink.deliveries, report.mailbox_messages);
  assert.equal(report.sink.distinct_keys, report.mailbox_messages);
  assert.equal(report.sink.keys_delivered_more_than_once, 0);
  assert.equal(report.dlq.total, 0);
  assert.equal(report.details.max_attempt, 1);
  // At most the handlers in flight when Redis filled up (2 workers x 4).
  assert.ok(Number(report.details.deliveries_during_fault) <= 8);
  assert.ok(Number(report.details.oom_log_lines) > 0);
});

Deno.test("redis_kill_aof: a SIGKILLed Redis with AOF loses nothing and doubles nothing in the stream", async () => {
  const report = await run("redis_kill_aof");
  assert.equal(report.distinct_entries, report.mailbox_messages);
  assert.equal(report.duplicates, 0);
  assert.equal(report.sink.distinct_keys, report.mailbox_messages);
  assert.deepEqual(report.details.exit_codes, [0, 0, 0]);
});

Deno.test("webhook_flaky: 500s and slow answers are retried with truthful attempts and valid signatures", async () => {
  const report = await run("webhook_flaky");
  const outcomes = report.details.receiver_outcomes as Record<string, number>;
  assert.equal(outcomes.ok, report.mailbox_messages, "one in-time success per entry");
  assert.ok(outcomes.error! > 0 && outcomes.slow! > 0);
  assert.equal(report.sink.deliveries, outcomes.ok! + outcomes.error! + outcomes.slow!);
  assert.equal(report.sink.repeated_successes, 0);
  assert.equal(report.details.bad_signatures, 0);
  assert.equal(report.dlq.total, 0);
});
