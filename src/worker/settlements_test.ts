import assert from "node:assert/strict";
import { ReplyError } from "ioredis";
import { SettleAbandonedError, Settlements } from "./settlements.ts";

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** A step refused with `error` for its first `refusals` calls, then answering `value`. */
function flakyStep<T>(refusals: number, value: T, error = () => new ReplyError(OOM)) {
  let calls = 0;
  const step = () => {
    calls++;
    return calls <= refusals ? Promise.reject(error()) : Promise.resolve(value);
  };
  return { step, calls: () => calls };
}

Deno.test("Settlements.settle() retries an OOM-refused step until it goes through, once", async () => {
  const events: string[] = [];
  const settlements = new Settlements({
    signal: new AbortController().signal,
    baseMs: 1,
    capMs: 2,
    onBlocked: (id, error) => events.push(`blocked ${id} ${/out of memory/.test(error)}`),
    onUnblocked: (_ms, settled) => events.push(`unblocked ${settled}`),
  });
  const { step, calls } = flakyStep(3, "acked");
  const seen: number[] = [];
  const pending = settlements.settle("1-0", async () => {
    seen.push(settlements.waiting);
    return await step();
  });
  assert.equal(await pending, "acked");
  assert.equal(calls(), 4, "three refusals, then the one try that went through");
  assert.deepEqual(seen, [0, 1, 1, 1], "the entry counts as waiting from the first refusal");
  assert.equal(settlements.waiting, 0);
  assert.deepEqual(events, ["blocked 1-0 true", "unblocked 1"]);
  assert.equal(settlements.describe(), undefined);
});

Deno.test("Settlements.describe() names the waiting entries and the OOM while blocked", async () => {
  const gate = new AbortController();
  const settlements = new Settlements({ signal: gate.signal, baseMs: 5, capMs: 5 });
  const running = settlements.settle("2-0", () => Promise.reject(new ReplyError(OOM)));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settlements.waiting, 1);
  assert.match(settlements.describe()!, /^1 handled entry cannot be settled .*out of memory/);
  gate.abort();
  await assert.rejects(running, (error: unknown) => {
    assert.ok(error instanceof SettleAbandonedError);
    assert.equal(error.entryId, "2-0");
    return true;
  });
  assert.equal(settlements.waiting, 0);
});

Deno.test("Settlements.settle() throws other failures at once, without blocking", async () => {
  let blocked = 0;
  const settlements = new Settlements({
    signal: new AbortController().signal,
    baseMs: 1,
    onBlocked: () => blocked++,
  });
  const { step, calls } = flakyStep(1, 0, () => new ReplyError("ERR Error running script"));
  await assert.rejects(settlements.settle("3-0", step), /ERR Error running script/);
  assert.equal(calls(), 1);
  assert.equal(blocked, 0);
  assert.equal(settlements.waiting, 0);
});

Deno.test("Settlements.settle() also waits out an outage (connection closed)", async () => {
  const settlements = new Settlements({ signal: new AbortController().signal, baseMs: 1 });
  const { step, calls } = flakyStep(2, true, () => new Error("Connection is closed."));
  assert.equal(await settlements.settle("4-0", step), true);
  assert.equal(calls(), 3);
});

Deno.test("Settlements.settleMany() counts every entry of a refused batch as waiting, and all as settled after", async () => {
  const events: string[] = [];
  const settlements = new Settlements({
    signal: new AbortController().signal,
    baseMs: 1,
    capMs: 2,
    onWaitingChanged: (waiting) => events.push(`waiting ${waiting}`),
    onUnblocked: (_ms, settled) => events.push(`unblocked ${settled}`),
  });
  const { step } = flakyStep(2, [true, true, false]);
  const seen: number[] = [];
  const answers = await settlements.settleMany(["1-0", "2-0", "3-0"], async () => {
    seen.push(settlements.waiting);
    return await step();
  });
  assert.deepEqual(answers, [true, true, false]);
  assert.deepEqual(seen, [0, 3, 3], "the whole batch waits from the first refusal");
  assert.deepEqual(events, ["waiting 3", "waiting 0", "unblocked 3"]);
});
