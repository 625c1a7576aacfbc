import assert from "node:assert/strict";
import { groupCheck, loopCheck, workerReadiness } from "./readiness.ts";

const running = {
  state: "running" as const,
  unsettled: undefined,
  heartbeatAgeMs: 100,
  blockMs: 1_000,
};

Deno.test("loopCheck() passes for a running loop with a recent heartbeat", () => {
  assert.deepEqual(loopCheck(running), { ok: true });
});

Deno.test("loopCheck() says why the loop is not ready", () => {
  assert.deepEqual(loopCheck({ ...running, state: "stopping" }), {
    ok: false,
    detail: "worker is stopping",
  });
  const unsettled = "1 handled entry cannot be settled for 3 s (not taking new work): OOM";
  assert.deepEqual(loopCheck({ ...running, unsettled }), { ok: false, detail: unsettled });
  assert.deepEqual(loopCheck({ ...running, heartbeatAgeMs: 10_001 }), {
    ok: false,
    detail: "read loop last ran 10001 ms ago",
  });
  const slowReads = loopCheck({ ...running, heartbeatAgeMs: 10_001, blockMs: 2_100 });
  assert.equal(slowReads.ok, true, "stale only after 5 blocking reads");
  assert.deepEqual(loopCheck({ ...running, heartbeatAgeMs: undefined }), {
    ok: false,
    detail: "read loop last ran never ms ago",
  });
});

Deno.test("groupCheck() reports a missing group and a Redis error", async () => {
  assert.deepEqual(await groupCheck("g", () => Promise.resolve(false)), {
    ok: false,
    detail: "group g does not exist",
  });
  const failed = await groupCheck("g", () => Promise.reject(new Error("Connection is closed.")));
  assert.equal(failed.ok, false);
  assert.match(failed.detail!, /Connection is closed/);
  const verdict = await workerReadiness(running, "g", () => Promise.resolve(true));
  assert.deepEqual(verdict, { ready: true, checks: { loop: { ok: true }, group: { ok: true } } });
});
