import assert from "node:assert/strict";
import { planBody } from "./structure.ts";

Deno.test("planBody() skips an empty text part the server synthesised before the real one", () => {
  // multipart/mixed( multipart/alternative() , text/plain ): servers report the empty nested
  // alternative as an empty text/plain part 1.
  const plan = planBody({
    type: "multipart/mixed",
    childNodes: [
      { part: "1", type: "text/plain", parameters: { charset: "us-ascii" }, size: 0 },
      { part: "2", type: "text/plain", parameters: { charset: "utf-8" }, size: 420 },
      { part: "3", type: "text/html", size: 0 },
      { part: "4", type: "text/html", size: 900 },
    ],
  });
  assert.equal(plan.text?.key, "2");
  assert.equal(plan.html?.key, "4");
  assert.deepEqual(plan.attachments, []);
});

Deno.test("planBody() keeps the first text part when it has content", () => {
  const plan = planBody({
    type: "multipart/mixed",
    childNodes: [
      { part: "1", type: "text/plain", size: 10 },
      { part: "2", type: "text/plain", size: 420 },
    ],
  });
  assert.equal(plan.text?.key, "1");
});

Deno.test("planBody() still picks an empty text part when it is the only one", () => {
  assert.equal(planBody({ type: "text/plain", size: 0 }).text?.key, "1");
});
