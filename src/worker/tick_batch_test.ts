import assert from "node:assert/strict";
import { TickBatch } from "./tick_batch.ts";

Deno.test("TickBatch hands calls of one turn to one flush and answers each its own result", async () => {
  const flushes: number[][] = [];
  const batch = new TickBatch<number, number>({
    flush: (items) => {
      flushes.push([...items]);
      return Promise.resolve(items.map((n) => n * 10));
    },
    maxItems: 3,
  });
  const results = await Promise.all([1, 2, 3, 4].map((n) => batch.add(n)));
  assert.deepEqual(results, [10, 20, 30, 40]);
  assert.deepEqual(flushes, [[1, 2, 3], [4]], "split at maxItems");
  assert.equal(await batch.add(5), 50, "a later call gets a batch of its own");
  assert.deepEqual(flushes.at(-1), [5]);
});

Deno.test("TickBatch rejects every call of a batch whose flush failed", async () => {
  const batch = new TickBatch<string, boolean>({
    flush: () => Promise.reject(new Error("OOM command not allowed")),
  });
  const calls = [batch.add("a"), batch.add("b")];
  for (const call of calls) await assert.rejects(call, /OOM/);
});
