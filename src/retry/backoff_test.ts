import assert from "node:assert/strict";
import { InvalidArgumentError } from "../errors.ts";
import { backoffDelay, sleep } from "./backoff.ts";

Deno.test("backoffDelay() doubles from the base and stays under the cap", () => {
  const top = { baseMs: 100, capMs: 1_000, random: () => 0.999999 };
  assert.deepEqual([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, top)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
});

Deno.test("backoffDelay() jitters between half and the full delay", () => {
  assert.equal(backoffDelay(2, { baseMs: 100, capMs: 10_000, random: () => 0 }), 200);
});

Deno.test("backoffDelay() rejects a negative attempt", () => {
  assert.throws(() => backoffDelay(-1, { baseMs: 1, capMs: 1 }), InvalidArgumentError);
});

Deno.test("sleep() ends early when its signal aborts", async () => {
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(new Error("stop")), 10);
  await assert.rejects(sleep(10_000, controller.signal), /stop/);
  assert.ok(Date.now() - started < 5_000);
});
