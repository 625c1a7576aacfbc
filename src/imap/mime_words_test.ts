import assert from "node:assert/strict";
import { decodeMimeWords } from "./mime_words.ts";

const b64 = (bytes: number[] | string) =>
  btoa(typeof bytes === "string" ? bytes : String.fromCharCode(...bytes));

Deno.test("decodeMimeWords() decodes a Japanese subject folded over ISO-2022-JP words", () => {
  // Each word is a complete ISO-2022-JP run: ESC $ B ... ESC ( B, the way mailers fold.
  const word = `=?ISO-2022-JP?B?${b64("\x1b$B%F%9%H\x1b(B")}?=`;
  const subject = decodeMimeWords(`Re: ${word}\r\n ${word} ${word}`.replace(/\r\n/g, ""));
  assert.equal(subject, "Re: テストテストテスト");
  assert.ok(!subject.includes("\uFFFD"));
});

Deno.test("decodeMimeWords() joins the bytes of a UTF-8 character split over two words", () => {
  assert.equal(decodeMimeWords("=?utf-8?Q?price_=E2=82?= =?utf-8?Q?=AC5?="), "price €5");
  assert.equal(decodeMimeWords(`=?utf-8?B?${b64([0xc3])}?= =?UTF-8?B?${b64([0xa9])}?=`), "é");
});

Deno.test("decodeMimeWords() decodes a Q word holding a raw space or an unfolded fold", () => {
  assert.equal(decodeMimeWords("=?utf-8?Q?two words=C3=A9?="), "two wordsé");
  // "=?...?Q?a\r\n b?=" after unfolding: the fold became one space inside the word.
  assert.equal(decodeMimeWords("=?iso-8859-1?Q?caf=E9 cr=E8me?= done"), "café crème done");
});

Deno.test("decodeMimeWords() keeps text between words that is not blank", () => {
  assert.equal(decodeMimeWords("=?utf-8?Q?a?= and =?utf-8?Q?b?="), "a and b");
  assert.equal(decodeMimeWords("=?utf-8?Q?a?=  =?iso-8859-1?Q?=E9?="), "aé");
  assert.equal(decodeMimeWords("no words here =? ?="), "no words here =? ?=");
});

Deno.test("decodeMimeWords() decodes a header of thousands of adjacent words", () => {
  const word = `=?utf-8?B?${b64([0xc3, 0xa9, 0xc3, 0xa9])}?=`;
  const value = Array.from({ length: 6_000 }, () => word).join(" ");
  assert.ok(value.length > 100_000);
  assert.equal(decodeMimeWords(value), "é".repeat(12_000));
});

Deno.test("decodeMimeWords() reads charsets beyond WHATWG and language suffixes", () => {
  assert.equal(decodeMimeWords(`=?cp932?B?${b64([0x82, 0xa0])}?=`), "あ");
  assert.equal(decodeMimeWords("=?utf-7?Q?Fr+APY-sche?="), "Frösche");
  assert.equal(decodeMimeWords("=?utf-8*en?Q?hi?="), "hi");
});
