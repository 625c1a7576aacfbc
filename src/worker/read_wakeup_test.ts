import assert from "node:assert/strict";
import { mustWakeRead } from "./read_wakeup.ts";

Deno.test("mustWakeRead() ends a read when a retry falls due before or when it would end", () => {
  assert.equal(mustWakeRead(1_100, 2_000), true);
  assert.equal(mustWakeRead(2_000, 2_000), true, "Redis ends a BLOCK up to 100 ms late");
  assert.equal(mustWakeRead(2_500, 2_000), false, "the read ends first");
  assert.equal(mustWakeRead(1_100, undefined), false, "no read is blocking");
});
