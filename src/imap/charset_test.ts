import assert from "node:assert/strict";
import { decodeCharset, decodeUtf8OrLatin1, isKnownCharset } from "./charset.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const raw = (...values: number[]) => Uint8Array.from(values);
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

Deno.test("decodeCharset() reads 8-bit UTF-8 under a us-ascii label as UTF-8", () => {
  // Servers report us-ascii for a message with no Content-Type at all.
  assert.equal(decodeCharset(bytes("Envoyé"), "us-ascii"), "Envoyé");
  assert.equal(decodeCharset(bytes("Envoyé"), "ASCII"), "Envoyé");
  assert.equal(decodeCharset(bytes("plain"), "us-ascii"), "plain");
});

Deno.test("decodeCharset() tries UTF-8 first for an unknown label", () => {
  assert.equal(decodeCharset(bytes("naïve"), "x-made-up"), "naïve");
  assert.equal(isKnownCharset("x-made-up"), false);
});

Deno.test("decodeCharset() replaces only the stray bytes of mostly-UTF-8 text", () => {
  // "café " in UTF-8, then one Latin-1 "é" (0xE9), then "€" in UTF-8.
  const mixed = new Uint8Array([...bytes("café "), 0xe9, ...bytes(" €")]);
  assert.equal(decodeCharset(mixed, "utf-8"), "café é €");
  assert.equal(decodeUtf8OrLatin1(latin1("\x93quoted\x94")), "“quoted”");
});

Deno.test("decodeCharset() decodes charsets TextDecoder lacks", () => {
  assert.equal(decodeCharset(raw(0x82, 0xa0), "cp932"), "あ");
  assert.equal(decodeCharset(raw(0xd6, 0xd0), "cp936"), "中");
  assert.equal(decodeCharset(raw(0xc7, 0xd1), "cp949"), "한");
  assert.equal(decodeCharset(raw(0x82, 0x81), "cp850"), "éü");
  assert.equal(decodeCharset(raw(0x82, 0x81), "ibm437"), "éü");
  assert.equal(decodeCharset(raw(0x41, 0, 0, 0, 0xe9, 0, 0, 0), "utf-32le"), "Aé");
  assert.equal(decodeCharset(raw(0, 0, 0xfe, 0xff, 0, 0, 0, 0x41), "utf-32"), "A");
  for (const label of ["cp932", "cp936", "cp949", "cp850", "ibm437", "utf-32"]) {
    assert.ok(isKnownCharset(label), label);
  }
});

Deno.test("decodeCharset() decodes the ISO-2022-JP family and UTF-7", () => {
  const test = latin1("\x1b$B%F%9%H\x1b(B"); // テスト
  assert.equal(decodeCharset(test, "iso-2022-jp"), "テスト");
  assert.equal(decodeCharset(test, "ISO-2022-JP-2"), "テスト");
  assert.equal(decodeCharset(test, "iso-2022-jp-3"), "テスト");
  // Two runs back to back: WHATWG's decoder puts U+FFFD between them.
  const twice = new Uint8Array([...test, ...test]);
  assert.equal(decodeCharset(twice, "iso-2022-jp"), "テストテスト");
  assert.equal(decodeCharset(latin1("Fr+APY-sche"), "utf-7"), "Frösche");
});

Deno.test("decodeCharset() keeps WHATWG's reading of latin1 labels", () => {
  assert.equal(decodeCharset(latin1("caf\xe9 \x80"), "iso-8859-1"), "café €");
  assert.equal(decodeCharset(latin1("\xa4"), "iso-8859-15"), "€");
});

Deno.test("decodeCharset() drops a character cut by a partial fetch, in any charset", () => {
  assert.equal(decodeCharset(bytes("ab€").subarray(0, 4), "utf-8", true), "ab");
  assert.equal(decodeCharset(raw(0x41, 0x82), "shift_jis", true), "A");
  assert.equal(decodeCharset(raw(0x41, 0x82), "cp932", true), "A");
});
