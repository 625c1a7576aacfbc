import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  exactUtf8Bytes,
  fieldsAsRead,
  fieldText,
  firstStreamRows,
  type StreamReplyBytes,
} from "./reply.ts";

const range = (n: number) => [...Array(n).keys()];

/** What the WHATWG decoder makes of `bytes`: the reference every path must match. */
const reference = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("field text: short and long values decode like TextDecoder, invalid bytes included", () => {
  const invalid = [0x61, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0xed, 0xa0, 0x80, 0xf0, 0x90, 0x80];
  const samples = [
    Buffer.from("email"),
    Buffer.from("Grüße, 日本語 😀"),
    Buffer.from(invalid),
    Buffer.from([...Buffer.from("x".repeat(300)), ...invalid]), // past the short-text path
    Buffer.from([...Buffer.from("é".repeat(200)), 0xff]),
  ];
  for (const bytes of samples) assert.equal(fieldText(bytes), reference(bytes));
  assert.equal(fieldText("already text"), "already text");
});

Deno.test("fields as read: names and values as text, the chosen field's value kept as bytes", () => {
  const payload = Buffer.from([0x7b, 0xff, 0x7d]);
  const fields = [Buffer.from("type"), Buffer.from("email"), Buffer.from("payload"), payload];
  const values = fieldsAsRead(fields, "payload");
  assert.deepEqual(values.slice(0, 3), ["type", "email", "payload"]);
  assert.equal(values[3], payload);
});

Deno.test("fields as read: names seen before are reused only when every byte matches", () => {
  // Names of the same length as seen ones but other bytes, non-ASCII names, and more
  // distinct names than are kept: each must come out as its own bytes decode.
  const names = ["type", "typf", "tÿpe", "naïve", "名前", ...range(40).map((n) => `field_${n}`)];
  for (let round = 0; round < 2; round++) {
    const fields = names.flatMap((name) => [Buffer.from(name), Buffer.from("v")]);
    const values = fieldsAsRead(fields, "payload");
    assert.deepEqual(values.filter((_, i) => i % 2 === 0), names);
  }
  const invalid = Buffer.from([0x74, 0xff, 0x70, 0x65]);
  assert.equal(fieldsAsRead([invalid, Buffer.from("v")], "payload")[0], reference(invalid));
});

Deno.test("exact UTF-8 bytes: the bytes only when the text is exactly what they decode to", () => {
  for (const text of ["{}", '{"a":"Grüße, 日本語 😀"}', "x".repeat(300)]) {
    const bytes = Buffer.from(text);
    assert.equal(exactUtf8Bytes(bytes, fieldText(bytes)), bytes);
  }
  const invalid = Buffer.from([0x7b, 0xff, 0x7d]);
  assert.equal(exactUtf8Bytes(invalid, fieldText(invalid)), undefined);
  const long = Buffer.from([...Buffer.from("x".repeat(300)), 0xc3]);
  assert.equal(exactUtf8Bytes(long, fieldText(long)), undefined);
  // A byte-order mark the decoder may drop, and a U+FFFD that may stand for invalid bytes.
  const marked = Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]);
  assert.equal(exactUtf8Bytes(marked, fieldText(marked)), undefined);
  const replacement = Buffer.from('{"a":"\uFFFD"}');
  assert.equal(exactUtf8Bytes(replacement, fieldText(replacement)), undefined);
});

Deno.test("first stream rows: ids as text, fields untouched", () => {
  const fields = [Buffer.from("a"), Buffer.from("b")];
  const reply: StreamReplyBytes = [[Buffer.from("s"), [[Buffer.from("1-0"), fields]]]];
  assert.deepEqual(firstStreamRows(reply), [["1-0", fields]]);
  assert.deepEqual(firstStreamRows(null), []);
});
