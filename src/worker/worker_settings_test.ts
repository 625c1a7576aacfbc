import assert from "node:assert/strict";
import { InvalidArgumentError } from "../errors.ts";
import { workerSettings } from "./worker_settings.ts";

Deno.test("workerSettings() applies the defaults", () => {
  assert.deepEqual(workerSettings({}), {
    concurrency: 8,
    capacity: 8,
    readBatch: 8,
    visibilityMs: 60_000,
    blockMs: 1_000,
    shutdownTimeoutMs: 30_000,
  });
});

Deno.test("workerSettings() keeps the blocking read within a third of the visibility timeout and 2 s", () => {
  assert.equal(workerSettings({ blockMs: 5_000 }).blockMs, 2_000);
  assert.equal(workerSettings({ visibilityTimeoutMs: 900 }).blockMs, 300);
  assert.equal(workerSettings({ visibilityTimeoutMs: 3 }).blockMs, 10, "never below the tick");
});

Deno.test("workerSettings() refuses a concurrency that is not a whole number >= 1", () => {
  assert.throws(() => workerSettings({ concurrency: 0 }), /current value is 0/);
  assert.throws(() => workerSettings({ concurrency: 1.5 }), InvalidArgumentError);
});

Deno.test("workerSettings() holds the entries read ahead on top of the sink calls", () => {
  assert.equal(workerSettings({ concurrency: 64 }).capacity, 64, "no read-ahead by default");
  assert.equal(workerSettings({ concurrency: 64, readAhead: 64 }).capacity, 128);
  assert.throws(() => workerSettings({ readAhead: -1 }), /readAhead .* current value is -1/);
});

Deno.test("workerSettings() reads batches of the concurrency, and of half of it above 256", () => {
  assert.equal(workerSettings({ concurrency: 64 }).readBatch, 64);
  assert.equal(workerSettings({ concurrency: 256, readAhead: 256 }).readBatch, 256);
  assert.equal(workerSettings({ concurrency: 257 }).readBatch, 129);
  assert.equal(workerSettings({ concurrency: 500, readAhead: 500 }).readBatch, 250);
});
