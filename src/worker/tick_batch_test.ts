import assert from "node:assert/strict";
import { TickBatch } from "./tick_batch.ts";

/** `push` as a promise, for the tests. */
function add<I, O>(batch: TickBatch<I, O>, item: I): Promise<O> {
  return new Promise((resolve, reject) => batch.push(item, resolve, reject));
}

Deno.test("TickBatch hands calls of one turn to one flush and answers each its own result", async () => {
  const flushes: number[][] = [];
  const batch = new TickBatch<number, number>({
    flush: (items) => {
      flushes.push([...items]);
      return Promise.resolve(items.map((n) => n * 10));
    },
    maxItems: 3,
  });
  const results = await Promise.all([1, 2, 3, 4].map((n) => add(batch, n)));
  assert.deepEqual(results, [10, 20, 30, 40]);
  assert.deepEqual(flushes, [[1, 2, 3], [4]], "split at maxItems");
  assert.equal(await add(batch, 5), 50, "a later call gets a batch of its own");
  assert.deepEqual(flushes.at(-1), [5]);
});

Deno.test("TickBatch.push() gives each callback its item along with the answer", async () => {
  const batch = new TickBatch<string, number>({
    flush: (items) => Promise.resolve(items.map((s) => s.length)),
  });
  const answers: string[] = [];
  const record = (value: number, item: string) => answers.push(`${item}=${value}`);
  batch.push("a", record, () => {});
  batch.push("bbb", record, () => {});
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(answers, ["a=1", "bbb=3"]);
});

Deno.test("TickBatch rejects every call of a batch whose flush failed", async () => {
  const batch = new TickBatch<string, boolean>({
    flush: () => Promise.reject(new Error("OOM command not allowed")),
  });
  const calls = [add(batch, "a"), add(batch, "b")];
  for (const call of calls) await assert.rejects(call, /OOM/);
});
