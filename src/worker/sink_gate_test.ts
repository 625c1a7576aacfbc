import assert from "node:assert/strict";
import { SinkGate } from "./sink_gate.ts";

Deno.test("SinkGate lets `limit` callers in at once, at once, and the rest in order", () => {
  const gate = new SinkGate(2);
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
  const gate = new SinkGate(1, controller.signal);
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
