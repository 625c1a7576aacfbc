import assert from "node:assert/strict";
import { htmlToTextLoaded } from "./html_text.ts";
import { buildEmailPayload, buildEmailPayloads, type FetchedMessage } from "./message_payload.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const context = {
  account: "me@example.test",
  mailbox: "INBOX",
  uidValidity: 3,
  bodyTextChars: 200,
  bodyHtmlChars: 50,
  now: new Date("2026-01-03T00:00:00Z"),
};

function message(headers: string, overrides: Partial<FetchedMessage> = {}): FetchedMessage {
  return {
    uid: 1,
    size: 400,
    flags: [],
    headers: bytes(headers.replace(/\n/g, "\r\n") + "\r\n\r\n"),
    bodyStructure: { type: "text/plain", parameters: { charset: "us-ascii" }, size: 50 },
    gmail: null,
    ...overrides,
  };
}

Deno.test("ENVELOPE placeholders are replaced by the header's parse", () => {
  const { payload } = buildEmailPayload(
    message("From: Ann <ann@example.test>\nTo: undisclosed:;, b@example.test", {
      envelope: {
        from: [{ address: "MISSING_MAILBOX@MISSING_DOMAIN" }],
        to: [{ address: "undisclosed@SYNTAX_ERROR" }, { address: "b@example.test" }],
      },
    }),
    context,
  );
  assert.equal(payload.from, "ann@example.test");
  assert.deepEqual(payload.to, ["b@example.test"]);
});

Deno.test("an ENVELOPE with fewer addresses than the header is replaced by the header's parse", () => {
  const { payload } = buildEmailPayload(
    message("From: a@example.test\nTo: Mikel@Lindsaar <mikel@example.org>, c@example.test", {
      envelope: { from: [{ address: "a@example.test" }], to: [{ address: "Mikel@Lindsaar" }] },
    }),
    context,
  );
  assert.deepEqual(payload.to, ["mikel@example.org", "c@example.test"]);
});

Deno.test("a trustworthy ENVELOPE is used as it is", () => {
  const { payload } = buildEmailPayload(
    message("From: a@example.test\nTo: b@example.test", {
      envelope: { from: [{ address: "a@example.test" }], to: [{ address: "b@example.test" }] },
    }),
    context,
  );
  assert.equal(payload.from, "a@example.test");
  assert.deepEqual(payload.to, ["b@example.test"]);
});

Deno.test("a us-ascii text part holding UTF-8 is decoded without a parse_error", () => {
  const part = { key: "1", encoding: "8bit", charset: "us-ascii", size: 20 };
  const { payload } = buildEmailPayload(
    message("From: a@example.test\nSubject: Envoyé", {
      text: { part, bytes: bytes("Message envoyé."), truncated: false },
    }),
    context,
  );
  assert.equal(payload.body_text, "Message envoyé.");
  assert.equal(payload.subject, "Envoyé");
  assert.equal(payload.parse_error, undefined);
});

Deno.test("a part labelled base64 that cannot be base64 is read as text, with a parse_error", () => {
  const part = { key: "1", encoding: "base64", charset: "utf-8", size: 20 };
  const { payload } = buildEmailPayload(
    message("From: a@example.test", {
      text: { part, bytes: bytes("Hi Bob\r\n"), truncated: false },
    }),
    context,
  );
  assert.equal(payload.body_text, "Hi Bob\n");
  assert.match(payload.parse_error ?? "", /invalid base64, read as plain text/);
});

Deno.test("a message parsed whole takes mailparser's reading and says parsed_by: full", () => {
  const { payload } = buildEmailPayload(
    message("From: a@example.test\nSubject: from the header\nContent-Type: multipart/mixed", {
      bodyStructure: { type: "text/plain", size: 300 },
      whole: {
        subject: "from the whole message",
        from: ["a@example.test"],
        to: ["b@example.test"],
        cc: [],
        replyTo: [],
        date: new Date("2026-01-01T00:00:00Z"),
        text: "the real text",
        html: "",
        attachments: [{ filename: "x.pdf", content_type: "application/pdf", size: 10 }],
      },
    }),
    context,
  );
  assert.equal(payload.parsed_by, "full");
  assert.equal(payload.subject, "from the whole message");
  assert.deepEqual(payload.to, ["b@example.test"]);
  assert.equal(payload.date, "2026-01-01T00:00:00.000Z");
  assert.equal(payload.body_text, "the real text");
  assert.equal(payload.attachments.length, 1);
  assert.equal(payload.parse_error, undefined);
});

Deno.test("the fast path sets no parsed_by", () => {
  const { payload } = buildEmailPayload(message("From: a@example.test"), context);
  assert.equal(payload.parsed_by, undefined);
});

Deno.test("a text part fetched far beyond the cap gives the same body as decoding all of it", () => {
  // Quoted-printable with soft breaks, CRLF line ends and UTF-8 escapes, 40× the cap.
  const line = "Caf=C3=A9 au lait, na=C3=AFve r=C3=A9sum=C3=A9 and a long line that wraps=\r\n" +
    " on and on.\r\n";
  const encoded = bytes(line.repeat(400));
  const part = { key: "1", encoding: "quoted-printable", charset: "utf-8", size: encoded.length };
  const fetched = message("From: a@example.test\nSubject: long", {
    text: { part, bytes: encoded, truncated: false },
  });
  const { payload } = buildEmailPayload(fetched, context);
  const whole = new TextDecoder().decode(
    Uint8Array.from(
      line.replace(/=\r\n/g, "").replace(
        /=([0-9A-F]{2})/g,
        (_, h) => String.fromCharCode(parseInt(h, 16)),
      ),
      (c) => c.charCodeAt(0),
    ),
  ).repeat(400).replace(/\r\n/g, "\n");
  assert.equal(payload.body_text, whole.slice(0, context.bodyTextChars));
  assert.equal(payload.parse_error, undefined);
});

Deno.test("invalid quoted-printable within what the payload keeps is still reported", () => {
  const encoded = bytes("bad =ZZ escape\r\n" + "filler line\r\n".repeat(500));
  const part = { key: "1", encoding: "quoted-printable", charset: "utf-8", size: encoded.length };
  const { payload } = buildEmailPayload(
    message("From: a@example.test", { text: { part, bytes: encoded, truncated: false } }),
    context,
  );
  assert.match(payload.parse_error ?? "", /part 1: invalid quoted-printable/);
  assert.ok(payload.body_text.startsWith("bad =ZZ escape\nfiller line\n"));
});

Deno.test("html-to-text is loaded only when a batch has a message with only HTML", async () => {
  // No test before this one in this file converts HTML: the module starts unloaded.
  assert.equal(htmlToTextLoaded(), false);
  const textPart = { key: "1", encoding: null, charset: null, size: 20 };
  const plain = message("Subject: plain", {
    text: { part: textPart, bytes: bytes("Hello there"), truncated: false },
  });
  const [built] = await buildEmailPayloads([plain], context);
  assert.equal(built!.payload.body_text, "Hello there");
  assert.equal(htmlToTextLoaded(), false, "a text part needs no converter");

  const htmlPart = { key: "1", encoding: null, charset: null, size: 30 };
  const htmlOnly = message("Subject: html", {
    html: { part: htmlPart, bytes: bytes("<p>Hi &amp; bye</p>"), truncated: false },
  });
  const pending = buildEmailPayload(htmlOnly, context);
  assert.equal(pending.needsHtmlToText, true);
  assert.equal(pending.payload.body_text, "");
  const [first, second] = await buildEmailPayloads([plain, htmlOnly], context);
  assert.equal(htmlToTextLoaded(), true);
  assert.equal(first!.payload.body_text, "Hello there");
  assert.equal(second!.payload.body_text, "Hi & bye");
  assert.equal(second!.needsHtmlToText, undefined);
  assert.equal(second!.payload.parse_error, undefined);
});
