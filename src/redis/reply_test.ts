import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fieldsAsRead, fieldText, firstStreamRows, type StreamReplyBytes } from "./reply.ts";

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

Deno.test("first stream rows: ids as text, fields untouched", () => {
  const fields = [Buffer.from("a"), Buffer.from("b")];
  const reply: StreamReplyBytes = [[Buffer.from("s"), [[Buffer.from("1-0"), fields]]]];
  assert.deepEqual(firstStreamRows(reply), [["1-0", fields]]);
  assert.deepEqual(firstStreamRows(null), []);
});
