import assert from "node:assert/strict";
import { SinkGate } from "./sink_gate.ts";

Deno.test("SinkGate lets `limit` callers in at once, at once, and the rest in order", () => {
  const gate = new SinkGate<() => void>(2, (run) => run());
  const order: number[] = [];
  gate.enter(() => order.push(1));
  gate.enter(() => order.push(2));
  assert.deepEqual(order, [1, 2], "free places run the caller right away");
  gate.enter(() => order.push(3));
  gate.enter(() => order.push(4));
  assert.equal(gate.waiting, 2);
  assert.deepEqual(order, [1, 2], "nobody passes while both places are taken");
  gate.leave();
  assert.deepEqual(order, [1, 2, 3], "a place given back goes to the first waiter");
  gate.leave();
  assert.deepEqual(order, [1, 2, 3, 4]);
  gate.leave();
  gate.leave();
  gate.enter(() => order.push(5));
  gate.enter(() => order.push(6));
  gate.enter(() => order.push(7));
  assert.deepEqual(order, [1, 2, 3, 4, 5, 6], "two places free again, and no third");
  assert.equal(gate.waiting, 1);
});

Deno.test("SinkGate lets every waiter through when its signal aborts, and stays open", () => {
  const controller = new AbortController();
  const gate = new SinkGate<() => void>(1, (run) => run(), controller.signal);
  const passed: string[] = [];
  gate.enter(() => passed.push("a"));
  gate.enter(() => passed.push("b"));
  gate.enter(() => passed.push("c"));
  controller.abort();
  assert.deepEqual(passed, ["a", "b", "c"]);
  assert.equal(gate.waiting, 0);
  gate.enter(() => passed.push("d"));
  assert.deepEqual(passed, ["a", "b", "c", "d"]);
  gate.leave();
});

Deno.test("SinkGate hands a place on in order through a long run of waiters that give it back at once, without a deep stack", () => {
  const gate = new SinkGate<() => void>(1, (run) => run());
  const order: number[] = [];
  gate.enter(() => order.push(0)); // holds the one place
  // 100,000 waiters that leave as soon as they run (entries the sink never sees), then one that stays.
  const quick = 100_000;
  for (let i = 1; i <= quick; i++) gate.enter(() => (order.push(i), gate.leave()));
  gate.enter(() => order.push(quick + 1));
  gate.enter(() => order.push(quick + 2));
  gate.leave(); // nested hand-overs this deep would overflow the stack
  assert.equal(order.length, quick + 2, "everyone up to the one that kept the place");
  assert.deepEqual(order.slice(0, 3), [0, 1, 2]);
  assert.equal(order.at(-1), quick + 1, "in arrival order");
  assert.equal(gate.waiting, 1);
  gate.leave();
  assert.equal(order.at(-1), quick + 2);
});
