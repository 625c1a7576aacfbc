import assert from "node:assert/strict";
import {
  decodeBase64,
  decodeQuotedPrintable,
  isCleanBase64,
  isImpossibleBase64,
  readQuotedPrintable,
} from "./transfer_decoding.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

Deno.test("decodeBase64() decodes clean, folded, junk-laden and truncated base64", () => {
  assert.equal(text(decodeBase64(bytes("aGVsbG8gd29ybGQ="))), "hello world");
  assert.equal(text(decodeBase64(bytes("aGVsbG8g\r\nd29ybGQ=\r\n"))), "hello world");
  assert.equal(text(decodeBase64(bytes("aGVs*bG8g!d29y"))), "hello wor");
  assert.equal(text(decodeBase64(bytes("aGVsbG8gd2"))), "hello w"); // cut mid-quantum
  assert.equal(text(decodeBase64(bytes("aGVsbG8gd"))), "hello "); // one letter over: dropped
});

Deno.test("isCleanBase64() and isImpossibleBase64() tell damaged base64 from plain text", () => {
  assert.ok(isCleanBase64(bytes("aGVs\r\nbG8=")));
  assert.ok(!isCleanBase64(bytes("aGVs=bG8=")));
  assert.ok(!isCleanBase64(bytes("aGV*")));
  assert.ok(isImpossibleBase64(bytes("Hi Bob"))); // 5 letters: one over a whole quantum
  assert.ok(!isImpossibleBase64(bytes("aGVsbG8=")));
});

Deno.test("quoted-printable: escapes, soft breaks, a truncated tail, invalid escapes", () => {
  assert.equal(text(decodeQuotedPrintable(bytes("caf=C3=A9 =\r\nau lait"))), "café au lait");
  assert.equal(text(decodeQuotedPrintable(bytes("a=3Db=E"))), "a=b");
  assert.ok(!readQuotedPrintable(bytes("a=3Db=\r\nc=E")).invalid);
  assert.ok(readQuotedPrintable(bytes("100% =ZZ")).invalid);
});

Deno.test("readQuotedPrintable() decodes and checks in one pass; a cut inside a soft break is no error", () => {
  const cases: Array<[string, string, boolean]> = [
    ["caf=C3=A9 =\r\nau lait", "café au lait", false],
    ["line one=\r", "line one", false], // the prefix ends between "=\r" and "\n"
    ["line one=", "line one", false],
    ["line one=4", "line one", false],
    ["line one=Z", "line one", true],
    ["bare=\rCR", "bareCR", true],
    ["100% =ZZ", "100% =ZZ", true],
    ["=3D=3d", "==", false],
  ];
  for (const [input, decoded, invalid] of cases) {
    const reading = readQuotedPrintable(bytes(input));
    assert.equal(text(reading.bytes), decoded, JSON.stringify(input));
    assert.equal(reading.invalid, invalid, JSON.stringify(input));
  }
});
