import assert from "node:assert/strict";
import { everyInterval, sharedIntervalTimers } from "./shared_interval.ts";

Deno.test("everyInterval() runs callbacks of one period on one timer until each is stopped", async () => {
  const before = sharedIntervalTimers();
  const counts = [0, 0, 0];
  const stops = counts.map((_, i) => everyInterval(20, () => counts[i]!++));
  assert.equal(sharedIntervalTimers(), before + 1);
  await new Promise((r) => setTimeout(r, 70));
  assert.ok(counts.every((c) => c >= 2), `counts ${counts}`);
  stops[0]!();
  const frozen = counts[0];
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(counts[0], frozen);
  assert.ok(counts[1]! > frozen!);
  stops[1]!();
  stops[2]!();
  assert.equal(sharedIntervalTimers(), before);
});

Deno.test("everyInterval() keeps running the others when one callback throws", async () => {
  let ran = 0;
  const stopBad = everyInterval(15, () => {
    throw new RangeError("boom");
  });
  const stopGood = everyInterval(15, () => ran++);
  await new Promise((r) => setTimeout(r, 50));
  stopBad();
  stopGood();
  assert.ok(ran >= 2);
});

Deno.test("everyInterval() refuses a period that is not a whole number >= 1", () => {
  assert.throws(() => everyInterval(0, () => {}), /periodMs must be a whole number >= 1/);
});
