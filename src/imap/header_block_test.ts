import assert from "node:assert/strict";
import { firstHeader, parseHeaderBlock } from "./header_block.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) (out.set(part, at), at += part.length);
  return out;
};

Deno.test("parseHeaderBlock() decodes each field on its own", () => {
  // A raw UTF-8 Subject, and one stray Latin-1 byte (0xE9) in another field.
  const raw = concat(
    bytes("Subject: Réunion à Zürich\r\nX-Note: caf"),
    Uint8Array.of(0xe9),
    bytes("\r\nFrom: a@b.test\r\n\r\n"),
  );
  const fields = parseHeaderBlock(raw);
  assert.equal(firstHeader(fields, "subject"), "Réunion à Zürich");
  assert.equal(firstHeader(fields, "X-Note"), "café");
  assert.equal(firstHeader(fields, "From"), "a@b.test");
});

Deno.test("parseHeaderBlock() reads a first field some mailer indented", () => {
  const fields = parseHeaderBlock(bytes(" From: a@b.test\r\nSubject: hi\r\n\r\n"));
  assert.equal(firstHeader(fields, "From"), "a@b.test");
  assert.equal(firstHeader(fields, "Subject"), "hi");
});

Deno.test("parseHeaderBlock() unfolds and decodes encoded words after unfolding", () => {
  const fields = parseHeaderBlock(
    bytes("Subject: =?utf-8?Q?caf=C3=A9?=\r\n =?utf-8?Q?_cr=C3=A8me?=\r\n\r\n"),
  );
  assert.equal(firstHeader(fields, "Subject"), "café crème");
});
