import assert from "node:assert/strict";
import { TickBatch } from "./tick_batch.ts";

/** `push` as a promise, for the tests. */
function add<I>(batch: TickBatch<I>, item: I): Promise<I> {
  return new Promise((resolve, reject) => batch.push(item, resolve, reject));
}

Deno.test("TickBatch hands calls of one turn to one flush and tells each caller when it went through", async () => {
  const flushes: number[][] = [];
  const batch = new TickBatch<number>({
    flush: (items) => {
      flushes.push([...items]);
      return Promise.resolve();
    },
    maxItems: 3,
  });
  const results = await Promise.all([1, 2, 3, 4].map((n) => add(batch, n)));
  assert.deepEqual(results, [1, 2, 3, 4], "each callback gets its own item");
  assert.deepEqual(flushes, [[1, 2, 3], [4]], "split at maxItems");
  assert.equal(await add(batch, 5), 5, "a later call gets a batch of its own");
  assert.deepEqual(flushes.at(-1), [5]);
});

Deno.test("TickBatch.push() calls back only after the flush of its batch ended", async () => {
  let release = () => {};
  const batch = new TickBatch<string>({
    flush: () => new Promise<void>((resolve) => (release = resolve)),
  });
  const heard: string[] = [];
  batch.push("a", (item) => heard.push(item), () => {});
  batch.push("b", (item) => heard.push(item), () => {});
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(heard, [], "the flush has not ended");
  release();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(heard, ["a", "b"]);
});

Deno.test("TickBatch rejects every call of a batch whose flush failed", async () => {
  const batch = new TickBatch<string>({
    flush: () => Promise.reject(new Error("OOM command not allowed")),
  });
  const calls = [add(batch, "a"), add(batch, "b")];
  for (const call of calls) await assert.rejects(call, /OOM/);
});
