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

Deno.test("readQuotedPrintable() undoes nodemailer's encoder for random bytes, from Buffers, views and prefixes", async () => {
  const { encode, wrap } = await import("nodemailer/lib/qp/index.js");
  const { Buffer } = await import("node:buffer");
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const into = new Uint8Array(64 * 1024);
  for (let round = 0; round < 200; round++) {
    // Mostly text, with bytes of every value (CR and LF among them) mixed in.
    const original = Buffer.from(
      Array.from(
        { length: Math.floor(random() * 3000) },
        () => random() < 0.9 ? 0x20 + Math.floor(random() * 95) : Math.floor(random() * 256),
      ),
    );
    const encoded = Buffer.from(wrap(encode(original), 76));
    const asView = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    for (const input of [encoded, asView]) {
      const reading = readQuotedPrintable(input, round % 2 === 0 ? into : undefined);
      assert.deepEqual(Buffer.from(reading.bytes), original, `round ${round}`);
      assert.equal(reading.invalid, false, `round ${round}`);
    }
    // A cut anywhere decodes to a prefix of the whole, and is never reported as invalid.
    const cut = Math.floor(random() * encoded.length);
    const prefix = readQuotedPrintable(encoded.subarray(0, cut));
    assert.ok(original.subarray(0, prefix.bytes.length).equals(Buffer.from(prefix.bytes)));
    assert.equal(prefix.invalid, false, `round ${round}, cut at ${cut}`);
  }
});
