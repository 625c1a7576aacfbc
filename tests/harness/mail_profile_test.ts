import assert from "node:assert/strict";
import { HTML_HEAVY, profileMessage, profileShape } from "./mail_profile.ts";

Deno.test("profileShape() spreads the HTML and attachment shares of a profile over the mailbox", () => {
  const shapes = Array.from({ length: 2000 }, (_, i) => profileShape(i, HTML_HEAVY));
  const share = (test: (s: typeof shapes[number]) => boolean) =>
    shapes.filter(test).length / shapes.length;
  assert.ok(Math.abs(share((s) => s.html) - 0.7) < 0.01);
  const large = share((s) => s.attachmentBytes >= 1024 * 1024);
  assert.ok(Math.abs(large - 0.03) < 0.01, `large share ${large}`);
  const ordinary = share((s) => s.attachmentBytes > 0 && s.attachmentBytes < 1024 * 1024);
  assert.ok(ordinary > 0.25 && ordinary <= 0.3, `ordinary share ${ordinary}`);
  for (const s of shapes) {
    if (s.attachmentBytes > 0 && s.attachmentBytes < 1024 * 1024) {
      assert.ok(s.attachmentBytes >= 5 * 1024 && s.attachmentBytes <= 100 * 1024);
    }
  }
});

Deno.test("profileMessage() is the same bytes for the same index, with HTML where the shape says", async () => {
  const first = await profileMessage(1, HTML_HEAVY);
  assert.deepEqual(await profileMessage(1, HTML_HEAVY), first);
  const index = Array.from({ length: 20 }, (_, i) => i).find((i) =>
    profileShape(i, HTML_HEAVY).html
  )!;
  const text = new TextDecoder().decode(await profileMessage(index, HTML_HEAVY));
  assert.match(text, /multipart\/alternative/);
  assert.match(text, /text\/html/);
});
