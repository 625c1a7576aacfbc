import assert from "node:assert/strict";
import { ChunkSizePolicy } from "./chunk_size.ts";

Deno.test("ChunkSizePolicy starts at max and halves after each failure down to min", () => {
  const policy = new ChunkSizePolicy({ max: 250, min: 2 });
  assert.equal(policy.size, 250);
  const sizes: number[] = [];
  for (let i = 0; i < 9; i++) {
    policy.failed();
    sizes.push(policy.size);
  }
  assert.deepEqual(sizes, [125, 62, 31, 15, 7, 3, 2, 2, 2]);
});

Deno.test("ChunkSizePolicy doubles back after growAfter whole chunks, never above max", () => {
  const policy = new ChunkSizePolicy({ max: 100, growAfter: 2 });
  policy.failed();
  policy.failed();
  assert.equal(policy.size, 25);
  policy.succeeded();
  assert.equal(policy.size, 25, "one success is not enough");
  policy.succeeded();
  assert.equal(policy.size, 50);
  policy.succeeded();
  policy.failed(); // a failure resets the streak
  assert.equal(policy.size, 25);
  for (let i = 0; i < 10; i++) policy.succeeded();
  assert.equal(policy.size, 100);
});

Deno.test("ChunkSizePolicy rejects bounds that cannot work", () => {
  assert.throws(() => new ChunkSizePolicy({ max: 0 }), /max must be >= 1/);
  assert.throws(() => new ChunkSizePolicy({ max: 10, min: 11 }), /min must be in 1\.\.10/);
});

Deno.test("ChunkSizePolicy halves what was really asked for when the chunk was short", () => {
  const policy = new ChunkSizePolicy({ max: 250 });
  policy.failed(10); // the round had only 10 messages left
  assert.equal(policy.size, 5);
  policy.failed(400); // never above the current size
  assert.equal(policy.size, 2);
});
