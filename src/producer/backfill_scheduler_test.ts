import assert from "node:assert/strict";
import { BackfillScheduler } from "./backfill_scheduler.ts";

const never = new AbortController().signal;

/** Lets every settled promise's callbacks run. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("BackfillScheduler gives turns round-robin over lanes, at most `slots` at once", async () => {
  const scheduler = new BackfillScheduler({ slots: 1 });
  const order: string[] = [];
  const lane = async (name: string, turns: number) => {
    for (let i = 0; i < turns; i++) {
      const release = await scheduler.turn(name, never);
      order.push(name);
      assert.equal(scheduler.load().busy, 1);
      await tick();
      release();
    }
  };
  await Promise.all([lane("a", 3), lane("b", 3), lane("c", 3)]);
  assert.deepEqual(order, ["a", "b", "c", "a", "b", "c", "a", "b", "c"]);
});

Deno.test("BackfillScheduler prefers a lane holding no turn when a slot frees", async () => {
  const scheduler = new BackfillScheduler({ slots: 2 });
  const a1 = await scheduler.turn("a", never);
  const x1 = await scheduler.turn("x", never);
  const granted: string[] = [];
  scheduler.turn("a", never).then(() => granted.push("a")); // a lane fetching one chunk ahead
  scheduler.turn("b", never).then(() => granted.push("b"));
  await tick();
  assert.deepEqual(granted, []);
  x1();
  await tick();
  assert.deepEqual(granted, ["b"]);
  a1();
  await tick();
  assert.deepEqual(granted, ["b", "a"]);
});

Deno.test("BackfillScheduler grants no turn while live work runs anywhere", async () => {
  const scheduler = new BackfillScheduler({ slots: 4 });
  let endLive!: () => void;
  const live = scheduler.live(() => new Promise<void>((resolve) => (endLive = resolve)));
  let granted = false;
  const turn = scheduler.turn("a", never).then((release) => {
    granted = true;
    return release;
  });
  await tick();
  assert.equal(granted, false);
  assert.deepEqual(scheduler.load(), { busy: 0, waiting: 1, live: 1 });
  endLive();
  await live;
  (await turn)();
  assert.equal(granted, true);
  assert.deepEqual(scheduler.load(), { busy: 0, waiting: 0, live: 0 });
});

Deno.test("BackfillScheduler.turn() rejects when aborted while waiting, and leaves the queue", async () => {
  const scheduler = new BackfillScheduler({ slots: 1 });
  const held = await scheduler.turn("a", never);
  const abort = new AbortController();
  const waiting = scheduler.turn("b", abort.signal);
  abort.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  assert.equal(scheduler.load().waiting, 0);
  held();
  held(); // a second release changes nothing
  assert.equal(scheduler.load().busy, 0);
});

Deno.test("BackfillScheduler refuses slots below 1", () => {
  assert.throws(() => new BackfillScheduler({ slots: 0 }), /slots must be a whole number >= 1/);
});
