import assert from "node:assert/strict";
import { holdsChars, type PartBytes, partText } from "./part_text.ts";

const QP_PART = { key: "1", encoding: "quoted-printable", charset: "utf-8", size: 100_000 };

/** A quoted-printable part cut short: `lines` lines of "café …", with one invalid escape first. */
function cutPart(lines: number): PartBytes {
  const body = "=ZZ " + "caf=C3=A9 au lait, =\r\nencore\r\n".repeat(lines);
  return { part: QP_PART, bytes: new TextEncoder().encode(body), truncated: true };
}

Deno.test("partText() after holdsChars() gives the text and problems of a part decoded afresh", () => {
  for (const [lines, wanted] of [[400, 2000], [400, 10], [3, 2000]] as const) {
    const checked = cutPart(lines);
    const holds = holdsChars(checked, wanted);
    assert.equal(holds, lines === 400, `${lines} lines, ${wanted} characters`);
    const problems: string[] = [];
    const text = partText(checked, problems, wanted);
    const freshProblems: string[] = [];
    assert.equal(text, partText(cutPart(lines), freshProblems, wanted));
    assert.deepEqual(problems, freshProblems);
    assert.deepEqual(problems, ["part 1: invalid quoted-printable"]);
  }
});

Deno.test("partText() of a checked part for more characters than were checked decodes further", () => {
  const part = cutPart(400);
  assert.ok(holdsChars(part, 10));
  const text = partText(part, [], 2000);
  assert.ok(text.length > 2000, `got ${text.length} characters`);
  assert.equal(text, partText(cutPart(400), [], 2000));
});
