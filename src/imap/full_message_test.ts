import assert from "node:assert/strict";
import { parseWholeMessage } from "./full_message.ts";

const bytes = (text: string) => new TextEncoder().encode(text.replace(/\n/g, "\r\n"));

Deno.test("parseWholeMessage() reads subject, addresses, date, text and files with mailparser", async () => {
  const whole = await parseWholeMessage(bytes(
    `From: "Ann Example" <ann@example.test>
To: bob@example.test, "Team" <team@example.test>
Subject: =?utf-8?Q?R=C3=A9sum=C3=A9?=
Date: Mon, 2 Mar 2026 10:00:00 +0100
Content-Type: multipart/mixed; boundary="sep"

--sep
Content-Type: text/plain; charset=utf-8

Hello from the text part.
--sep
Content-Type: application/pdf; name="notes.pdf"
Content-Disposition: attachment; filename="notes.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--sep--
`,
  ));
  assert.equal(whole.subject, "Résumé");
  assert.deepEqual(whole.from, ["ann@example.test"]);
  assert.deepEqual(whole.to, ["bob@example.test", "team@example.test"]);
  assert.equal(whole.date?.toISOString(), "2026-03-02T09:00:00.000Z");
  assert.equal(whole.text.trim(), "Hello from the text part.");
  assert.deepEqual(whole.attachments, [
    { filename: "notes.pdf", content_type: "application/pdf", size: 9 },
  ]);
});

Deno.test("parseWholeMessage() gives no date where the Date header is unreadable", async () => {
  const whole = await parseWholeMessage(bytes("From: a@example.test\nDate: someday\n\nbody\n"));
  assert.equal(whole.date, null);
  assert.equal(whole.text.trim(), "body");
});
