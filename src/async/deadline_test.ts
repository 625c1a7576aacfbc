import assert from "node:assert/strict";
import { withDeadline } from "./deadline.ts";

Deno.test("withDeadline() settles like the promise when it is in time", async () => {
  assert.equal(await withDeadline(Promise.resolve(7), 1000, "seven"), 7);
});

Deno.test("withDeadline() rejects naming what did not finish in time", async () => {
  const never = new Promise<number>(() => {});
  await assert.rejects(
    withDeadline(never, 10, "the probe"),
    /the probe did not finish within 10 ms/,
  );
});
