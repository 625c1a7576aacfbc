import assert from "node:assert/strict";
import { attemptNumber, decodeAttempts, encodeAttempts, nextAttempt } from "./attempts.ts";

const at = new Date("2026-01-02T03:04:05.000Z");

Deno.test("attemptNumber() is 1 for a first delivery and counts recorded failures", () => {
  assert.equal(attemptNumber(undefined, 1), 1);
  assert.equal(attemptNumber(nextAttempt(undefined, at, "boom"), 2), 2);
});

Deno.test("attemptNumber() counts deliveries whose outcome was never recorded", () => {
  // Delivered 4 times (3 runs died or could not settle), no failure on record.
  assert.equal(attemptNumber(undefined, 4), 4);
  // One recorded failure, but delivered 3 times: the third attempt, not the second.
  assert.equal(attemptNumber(nextAttempt(undefined, at, "boom"), 3), 3);
  assert.equal(attemptNumber(undefined, Number.NaN), 1);
});

Deno.test("nextAttempt() records at least the number of the attempt that failed", () => {
  const first = nextAttempt(undefined, at, "boom", 3);
  assert.equal(first.attempts, 3);
  assert.equal(first.firstFailure, at.toISOString());
  const second = nextAttempt(first, new Date(at.getTime() + 1000), "again", 2);
  assert.equal(second.attempts, 4, "never goes backwards");
  assert.equal(second.firstFailure, at.toISOString());
  assert.equal(second.lastError, "again");
  assert.deepEqual(decodeAttempts(encodeAttempts(second)), second);
});
