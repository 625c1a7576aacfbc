import assert from "node:assert/strict";
import { SinkGate } from "./sink_gate.ts";

Deno.test("SinkGate lets `limit` callers in at once without a promise, the rest in order", async () => {
  const gate = new SinkGate(2);
  assert.equal(gate.enter(), undefined);
  assert.equal(gate.enter(), undefined);
  const order: number[] = [];
  const third = gate.enter()!.then(() => order.push(3));
  const fourth = gate.enter()!.then(() => order.push(4));
  assert.equal(gate.waiting, 2);
  await Promise.resolve();
  assert.deepEqual(order, [], "nobody passes while both places are taken");
  gate.leave();
  await third;
  assert.deepEqual(order, [3]);
  gate.leave();
  await fourth;
  assert.deepEqual(order, [3, 4]);
  gate.leave();
  gate.leave();
  assert.equal(gate.enter(), undefined, "two places free again");
  assert.equal(gate.enter(), undefined);
  assert.notEqual(gate.enter(), undefined, "and no third");
});

Deno.test("SinkGate lets every waiter through when its signal aborts, and stays open", async () => {
  const controller = new AbortController();
  const gate = new SinkGate(1, controller.signal);
  assert.equal(gate.enter(), undefined);
  const waiters = [gate.enter(), gate.enter()];
  controller.abort();
  await Promise.all(waiters);
  assert.equal(gate.waiting, 0);
  assert.equal(gate.enter(), undefined);
  gate.leave();
});
