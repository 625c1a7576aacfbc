/**
 * Real-world decoding end to end: messages written here to show each bug of
 * issue 13 go through Dovecot and `ingest produce --once --dry-run`, so the
 * server's own ENVELOPE and BODYSTRUCTURE (placeholders, synthesised parts,
 * misread multiparts) are part of the test.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { simpleParser } from "mailparser";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";

const crlf = (text: string) => new TextEncoder().encode(text.replace(/\r?\n/g, "\r\n"));
const b64 = (binary: string) => btoa(binary);

const MESSAGES: Record<string, Uint8Array> = {
  // Folded Japanese subject: three ISO-2022-JP words.
  japanese: crlf(`From: taro@example.test
To: hanako@example.test
Subject: =?ISO-2022-JP?B?${b64("\x1b$B%F%9%H\x1b(B")}?=
 =?ISO-2022-JP?B?${b64("\x1b$B%F%9%H\x1b(B")}?=
Message-ID: <jp@example.test>

body
`),
  // No Content-Type at all (the server says us-ascii) and 8-bit UTF-8 in body and Subject.
  noContentType: crlf(`From: a@example.test
To: b@example.test
Subject: Envoyé depuis mon téléphone
Message-ID: <nct@example.test>

Message envoyé.
`),
  // Addresses the server cannot parse: placeholders in its ENVELOPE.
  placeholders: crlf(`From: "Big Bug" bb@example.test
To: Mikel@Lindsaar <mikel@example.org>, c@example.test
Subject: addresses
Message-ID: <addr@example.test>

body
`),
  // An empty nested multipart/alternative before the real text part.
  emptyAlternative: crlf(`From: a@example.test
To: b@example.test
Subject: empty alternative
Message-ID: <alt@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner--
--outer
Content-Type: text/plain; charset=utf-8

The real text.
--outer--
`),
  // multipart/mixed without its boundary parameter: the server reads one text/plain part.
  noBoundary: crlf(`From: a@example.test
To: b@example.test
Subject: no boundary
Message-ID: <nb@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed

--frontier
Content-Type: text/plain; charset=utf-8

Text behind a boundary nobody declared.
--frontier--
`),
  // The ";" before the boundary parameter forgotten: the server finds no parts.
  oddBoundary: crlf(`From: a@example.test
To: b@example.test
Subject: odd boundary
Message-ID: <ob@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed
	boundary=":sep"

--:sep
Content-Type: text/plain; charset=utf-8

Text behind an odd boundary.
--:sep
Content-Type: application/octet-stream; name="a.bin"
Content-Disposition: attachment; filename="a.bin"

xyz
--:sep--
`),
};

Deno.test("produce --dry-run decodes real-world shapes of mail as mailparser and Python do", async () => {
  await using dovecot = await startDovecot();
  await using redis = await startRedis();
  const names = Object.keys(MESSAGES);
  for (const name of names) await dovecot.append(TEST_USER, "INBOX", MESSAGES[name]!);
  const result = await runIngest(["produce", "--once", "--dry-run"], {
    env: pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url }),
  });
  assert.equal(result.code, 0, result.stderr);
  const payloads = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  const by = Object.fromEntries(payloads.map((p, i) => [names[i]!, p]));
  assert.equal(payloads.length, names.length);

  assert.equal(by.japanese.subject, "テストテスト");

  assert.equal(by.noContentType.subject, "Envoyé depuis mon téléphone");
  assert.equal(by.noContentType.body_text, "Message envoyé.\n");
  assert.equal(by.noContentType.parse_error, undefined);

  assert.equal(by.placeholders.from, "bb@example.test");
  assert.deepEqual(by.placeholders.to, ["mikel@example.org", "c@example.test"]);

  assert.equal(by.emptyAlternative.body_text.trim(), "The real text.");
  assert.equal(by.emptyAlternative.parsed_by, undefined);

  // Where the server's structure contradicts the message, the payload is mailparser's reading.
  for (const name of ["noBoundary", "oddBoundary"]) {
    const expected = await simpleParser(Buffer.from(MESSAGES[name]!));
    assert.equal(by[name].parsed_by, "full", name);
    assert.equal(by[name].body_text, expected.text ?? "", name);
    assert.equal(by[name].attachments.length, expected.attachments.length, name);
    assert.equal(by[name].subject, expected.subject, name);
    // Neither the server nor mailparser found the parts: the payload says so.
    if (!expected.text) assert.match(by[name].parse_error, /mailparser found no body/, name);
  }
});
