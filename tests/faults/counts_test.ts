import assert from "node:assert/strict";
import { sinkCounts } from "./counts.ts";

Deno.test("sinkCounts() counts deliveries per key and repeated successes", () => {
  const counts = sinkCounts([
    { key: "a", attempt: 1, succeeded: false },
    { key: "b", attempt: 1, succeeded: true },
    { key: "a", attempt: 2, succeeded: true },
    { key: "b", attempt: 2, succeeded: true },
  ]);
  assert.deepEqual(counts.sink, {
    deliveries: 4,
    distinct_keys: 2,
    keys_delivered_more_than_once: 2,
    repeated_successes: 1,
  });
  assert.deepEqual(counts.untruthfulAttempts, []);
  assert.equal(counts.keysWithoutSuccess, 0);
});

Deno.test("sinkCounts() flags repeated attempt numbers (every re-delivery 'attempt 1')", () => {
  const counts = sinkCounts([
    { key: "a", attempt: 1, succeeded: true },
    { key: "a", attempt: 1, succeeded: true },
    { key: "b", attempt: 3, succeeded: true }, // two deliveries lost before the sink: fine
    { key: "c", attempt: 1, succeeded: false },
  ]);
  assert.deepEqual(counts.untruthfulAttempts, ["a"]);
  assert.equal(counts.keysWithoutSuccess, 1);
});
