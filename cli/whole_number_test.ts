import assert from "node:assert/strict";
import { wholeNumberProblem } from "./whole_number.ts";

Deno.test("wholeNumberProblem() accepts whole numbers within bounds only", () => {
  assert.equal(wholeNumberProblem("--tail", "0", { min: 0 }), undefined);
  assert.equal(wholeNumberProblem("--port", "65535", { min: 0, max: 65535 }), undefined);
  for (const raw of ["-1", "1.5", "x", "", "65536"]) {
    assert.ok(wholeNumberProblem("--port", raw, { min: 0, max: 65535 }), raw);
  }
});

Deno.test("wholeNumberProblem() names the flag, the range and the value", () => {
  assert.equal(
    wholeNumberProblem("--port", "x", { min: 0, max: 65535, note: " (0 picks a free port)" }),
    '--port must be a whole number 0..65535 (0 picks a free port): current value is "x"',
  );
  assert.equal(
    wholeNumberProblem("--limit", "0", { min: 1 }),
    '--limit must be a whole number >= 1: current value is "0"',
  );
});
