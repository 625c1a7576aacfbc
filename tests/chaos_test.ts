/**
 * A short, deterministic run of the chaos suite (scripts/chaos.ts): one fault
 * of each kind while mail flows, then proof that the stream holds every
 * message exactly once and that every message reached a sink.
 */

import assert from "node:assert/strict";
import { runChaos } from "../scripts/chaos.ts";

Deno.test("the pipeline loses and doubles nothing through a SIGKILL of each process, Redis and Dovecot", async () => {
  const report = await runChaos({
    messages: 40,
    faults: 4,
    seed: 11,
    sequence: ["kill_producer", "kill_worker", "kill_redis", "restart_dovecot"],
  });
  console.log(JSON.stringify(report));
  assert.equal(report.delivered, 40);
  assert.equal(report.lostInStream, 0, "messages missing from the stream");
  assert.equal(report.streamDuplicates, 0, "stream entries published twice");
  assert.equal(report.lostInSinks, 0, "messages no sink received");
  assert.equal(report.inStream, 40);
  assert.ok(report.ok);
});
