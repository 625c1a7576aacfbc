import assert from "node:assert/strict";
import { decodeCharset } from "../src/imap/charset.ts";
import { parseAddressList } from "../src/imap/address_list.ts";
import { headerRecord, messageIds, parseHeaderBlock } from "../src/imap/header_block.ts";
import { htmlToText, loadHtmlToText } from "../src/imap/html_text.ts";
import { buildEmailPayload, type FetchedMessage } from "../src/imap/message_payload.ts";
import { decodeMimeWords } from "../src/imap/mime_words.ts";
import { planBody } from "../src/imap/structure.ts";
import { decodeBase64, decodeQuotedPrintable } from "../src/imap/transfer_decoding.ts";

await loadHtmlToText();

const bytes = (text: string) => new TextEncoder().encode(text);
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

Deno.test("decodeMimeWords decodes B and Q words and joins adjacent ones", () => {
  assert.equal(decodeMimeWords("=?UTF-8?B?w6l0w6k=?="), "été");
  assert.equal(decodeMimeWords("=?iso-8859-1?Q?caf=E9_cr=E8me?="), "café crème");
  assert.equal(decodeMimeWords("Re: =?utf-8?q?na=C3=AFve?= idea"), "Re: naïve idea");
  // "€" (E2 82 AC) split across two words must survive the split.
  assert.equal(decodeMimeWords("=?utf-8?Q?price_=E2=82?= =?utf-8?Q?=AC5?="), "price €5");
  assert.equal(decodeMimeWords("=?utf-8*en?Q?hi?="), "hi");
  assert.equal(decodeMimeWords("plain text"), "plain text");
});

Deno.test("decodeCharset falls back to latin1 for bytes that are not UTF-8", () => {
  assert.equal(decodeCharset(latin1("caf\xe9"), "utf-8"), "café");
  assert.equal(decodeCharset(latin1("caf\xe9"), "x-unknown-charset"), "café");
  assert.equal(decodeCharset(latin1("caf\xe9"), "iso-8859-1"), "café");
  assert.equal(decodeCharset(bytes("日本"), "UTF8"), "日本");
});

Deno.test("decodeCharset drops a character cut in half by a partial fetch", () => {
  const cut = bytes("ab€").subarray(0, 4); // "ab" + 2 of the 3 bytes of "€"
  assert.equal(decodeCharset(cut, "utf-8", true), "ab");
});

Deno.test("transfer decoders tolerate truncation", () => {
  assert.equal(new TextDecoder().decode(decodeBase64(bytes("aGVsbG8g\r\nd29y"))), "hello wor");
  assert.equal(new TextDecoder().decode(decodeBase64(bytes("aGVsbG8gd2"))), "hello w");
  assert.equal(new TextDecoder().decode(decodeQuotedPrintable(bytes("a=3Db=\r\nc=E"))), "a=bc");
  assert.equal(new TextDecoder().decode(decodeQuotedPrintable(bytes("100% =ZZ"))), "100% =ZZ");
});

Deno.test("parseHeaderBlock unfolds lines and skips junk", () => {
  const fields = parseHeaderBlock(
    bytes(
      "Subject: =?utf-8?Q?H=C3=A9llo?=\r\n  world\r\nnot a header line\r\nReceived: a\r\n" +
        "received: b\r\nMessage-ID: <x@y>\r\n\r\nBody: no\r\n",
    ),
  );
  assert.deepEqual(fields.map((f) => f.name), ["Subject", "Received", "received", "Message-ID"]);
  assert.equal(fields[0]!.value, "Héllo world");
  assert.deepEqual(headerRecord(fields), {
    Subject: "Héllo world",
    Received: "a\nb",
    "Message-ID": "<x@y>",
  });
  assert.deepEqual(messageIds("<a@b> <c@d>\r\n <e@f>"), ["<a@b>", "<c@d>", "<e@f>"]);
});

Deno.test("parseAddressList reads addr-specs from names, groups and comments", () => {
  assert.deepEqual(
    parseAddressList('"Doe, Jane" <jane@x.org>, bob@y.org (Bob), Team: c@z.org, d@z.org;'),
    ["jane@x.org", "bob@y.org", "c@z.org", "d@z.org"],
  );
  assert.deepEqual(parseAddressList("undisclosed-recipients:;"), []);
});

Deno.test("htmlToText drops scripts and styles and decodes entities", () => {
  const html = "<html><head><style>p{}</style></head><body><p>Hello&nbsp;&amp; <b>welcome</b></p>" +
    "<script>alert(1)</script><div>Line&#233;2</div></body></html>";
  assert.equal(htmlToText(html), "Hello & welcome\n\nLineé2");
});

Deno.test("planBody finds the text, html and attachment parts", () => {
  const plan = planBody({
    type: "multipart/mixed",
    childNodes: [
      {
        part: "1",
        type: "multipart/alternative",
        childNodes: [
          { part: "1.1", type: "text/plain", parameters: { charset: "utf-8" }, size: 10 },
          { part: "1.2", type: "text/html", encoding: "quoted-printable", size: 20 },
        ],
      },
      {
        part: "2",
        type: "application/pdf",
        encoding: "base64",
        size: 78_000,
        disposition: "attachment",
        dispositionParameters: { filename: "=?utf-8?Q?r=C3=A9sum=C3=A9.pdf?=" },
      },
      { part: "3", type: "text/plain", disposition: "attachment", parameters: { name: "a.txt" } },
    ],
  });
  assert.equal(plan.text?.key, "1.1");
  assert.equal(plan.text?.charset, "utf-8");
  assert.equal(plan.html?.key, "1.2");
  assert.deepEqual(plan.attachments, [
    { filename: "résumé.pdf", content_type: "application/pdf", size: 57_000 },
    { filename: "a.txt", content_type: "text/plain", size: 0 },
  ]);
  assert.equal(planBody({ type: "text/plain" }).text?.key, "1");
});

function fetched(overrides: Partial<FetchedMessage> = {}): FetchedMessage {
  return {
    uid: 7,
    size: 1234,
    flags: ["\\Seen"],
    internalDate: new Date("2026-01-02T03:04:05Z"),
    envelope: {
      date: new Date("2026-01-02T03:00:00Z"),
      subject: "Quarterly report",
      messageId: "<m1@example.test>",
      from: [{ name: "Alice", address: "alice@example.test" }],
      to: [{ address: "bob@example.test" }],
    },
    bodyStructure: { type: "text/plain", parameters: { charset: "utf-8" }, encoding: "base64" },
    headers: bytes("From: Alice <alice@example.test>\r\nReferences: <a@b> <c@d>\r\n\r\n"),
    gmail: null,
    ...overrides,
  };
}

const context = {
  account: "me@example.test",
  mailbox: "INBOX",
  uidValidity: 99,
  bodyTextChars: 5,
  bodyHtmlChars: 8,
  now: new Date("2026-01-03T00:00:00Z"),
};

Deno.test("buildEmailPayload fills the seed's fields and ours", () => {
  const part = { key: "1", encoding: "base64", charset: "utf-8", size: 12 };
  const { payload, dedupeId } = buildEmailPayload(
    fetched({ text: { part, bytes: bytes(btoa("Hello\r\nworld")), truncated: false } }),
    context,
  );
  assert.equal(payload.body_text, "Hello");
  assert.equal(payload.from, "alice@example.test");
  assert.deepEqual(payload.to, ["bob@example.test"]);
  assert.deepEqual(payload.references, ["<a@b>", "<c@d>"]);
  assert.equal(payload.date, "2026-01-02T03:00:00.000Z");
  assert.equal(payload.internal_date, "2026-01-02T03:04:05.000Z");
  assert.equal(payload.fetched_at, "2026-01-03T00:00:00.000Z");
  assert.equal(payload.parse_error, undefined);
  assert.equal(dedupeId, "mid:<m1@example.test>");
});

Deno.test("buildEmailPayload uses the html part when there is no text part", () => {
  const part = { key: "1", encoding: null, charset: null, size: 30 };
  const { payload } = buildEmailPayload(
    fetched({ html: { part, bytes: bytes("<p>Hi &amp; bye</p>"), truncated: false } }),
    { ...context, bodyTextChars: 100 },
  );
  assert.equal(payload.body_text, "Hi & bye");
  assert.equal(payload.body_html_preview, "<p>Hi &a");
});

Deno.test("buildEmailPayload still publishes a message it cannot read, saying why", () => {
  const { payload, dedupeId } = buildEmailPayload(
    fetched({ envelope: undefined, bodyStructure: undefined, headers: bytes("garbage\r\n") }),
    context,
  );
  assert.match(payload.parse_error ?? "", /no readable header fields/);
  assert.match(payload.parse_error ?? "", /BODYSTRUCTURE/);
  assert.equal(payload.uid, 7);
  assert.match(dedupeId, /^h:[0-9a-f]{32}$/);
});

Deno.test("the dedupe id prefers Gmail's X-GM-MSGID", () => {
  const { dedupeId } = buildEmailPayload(
    fetched({ gmail: { msgid: "1234", thrid: "55", labels: ["\\Inbox"] } }),
    context,
  );
  assert.equal(dedupeId, "gm:1234");
});

Deno.test("damaged content is reported in parse_error but still decoded", () => {
  const base64 = { key: "1", encoding: "base64", charset: "utf-8", size: 30 };
  const qp = { key: "1", encoding: "quoted-printable", charset: "x-unknown-charset", size: 30 };
  const bad64 = buildEmailPayload(
    fetched({ text: { part: base64, bytes: bytes("!!!nope*base64@@@===\r\n"), truncated: false } }),
    context,
  );
  assert.match(bad64.payload.parse_error ?? "", /part 1: invalid base64/);
  const badQp = buildEmailPayload(
    fetched({ text: { part: qp, bytes: bytes("broken =ZZ escape="), truncated: false } }),
    { ...context, bodyTextChars: 100 },
  );
  assert.match(badQp.payload.parse_error ?? "", /invalid quoted-printable/);
  assert.match(badQp.payload.parse_error ?? "", /unknown charset "x-unknown-charset"/);
  assert.equal(badQp.payload.body_text, "broken =ZZ escape");
  const junkHeaders = buildEmailPayload(
    fetched({ headers: latin1("From: a@b.test\r\nno colon here\r\nSubject: caf\xe9\r\n\r\n") }),
    context,
  );
  assert.match(junkHeaders.payload.parse_error ?? "", /1 malformed header line skipped/);
  assert.equal(junkHeaders.payload.subject, "café");
  const lostParts = buildEmailPayload(
    fetched({
      size: 300,
      headers: bytes("Content-Type: multipart/mixed; boundary=x\r\n\r\n"),
      bodyStructure: {
        type: "multipart/mixed",
        childNodes: [{ part: "1", type: "text/plain", size: 0 }],
      },
    }),
    context,
  );
  assert.match(lostParts.payload.parse_error ?? "", /boundary missing or wrong/);
});
