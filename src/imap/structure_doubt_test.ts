import assert from "node:assert/strict";
import { structureDoubt } from "./structure_doubt.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("structureDoubt() trusts a structure that matches the headers", () => {
  assert.equal(
    structureDoubt({
      size: 500,
      headers: bytes("Content-Type: multipart/alternative;\r\n boundary=x\r\n\r\n"),
      bodyStructure: {
        type: "multipart/alternative",
        childNodes: [{ part: "1", type: "text/plain", size: 100 }],
      },
    }),
    null,
  );
  assert.equal(structureDoubt({ size: 50, bodyStructure: { type: "text/plain", size: 20 } }), null);
  assert.equal(structureDoubt({ size: 50 }), null);
});

Deno.test("structureDoubt() distrusts a multipart the server read as one text part", () => {
  // multipart/mixed without its boundary parameter: the server falls back to text/plain.
  const doubt = structureDoubt({
    size: 800,
    headers: bytes("Subject: x\r\nContent-Type: Multipart/Mixed\r\n\r\n"),
    bodyStructure: { type: "text/plain", size: 700 },
  });
  assert.match(doubt ?? "", /multipart\/mixed body as text\/plain/);
});

Deno.test("structureDoubt() distrusts a multipart without parts or with only empty ones", () => {
  const headers = bytes("Content-Type: multipart/mixed; boundary=wrong\r\n\r\n");
  assert.match(
    structureDoubt({ size: 900, headers, bodyStructure: { type: "multipart/mixed" } }) ?? "",
    /without parts/,
  );
  assert.match(
    structureDoubt({
      size: 900,
      headers,
      bodyStructure: {
        type: "multipart/mixed",
        childNodes: [{ part: "1", type: "text/plain", size: 0 }],
      },
    }) ?? "",
    /boundary missing or wrong/,
  );
});
