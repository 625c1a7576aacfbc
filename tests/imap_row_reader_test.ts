/**
 * The producer's FETCH row reader (`src/imap/raw_fetch.ts`) against a real
 * Dovecot: for both query shapes of the producer it must read every row
 * itself (none left to imapflow) and give exactly what imapflow's own
 * `fetch()` gives for the same messages, and it must keep working across
 * IDLE and a connection that closes mid-command.
 */

import assert from "node:assert/strict";
import type { FetchMessageObject, FetchQueryObject, ImapFlow } from "imapflow";
import { installRowReader, rowReaderStats, streamRows } from "../src/imap/raw_fetch.ts";
import { METADATA_QUERY } from "../src/imap/metadata_rows.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { malformedMessage, realisticMessage } from "./harness/mail.ts";
import { TEST_USER } from "./harness/pipeline_env.ts";

const crlf = (text: string) => new TextEncoder().encode(text.replace(/\r?\n/g, "\r\n"));

/** Parameters that make Dovecot quote, escape, fold and send 8-bit bytes in BODYSTRUCTURE. */
const ODD_STRUCTURE = crlf(`From: a@example.test
To: b@example.test
Subject: odd parameters
Message-ID: <odd@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b \\"q\\" 1"

--b "q" 1
Content-Type: text/plain; charset="utf-8"; format=flowed
Content-Disposition: inline

hello
--b "q" 1
Content-Type: application/pdf; name="say \\"hi\\" \\\\ there.pdf"
Content-Disposition: attachment; filename*0*=utf-8''%E2%82%AC%20; filename*1="rate.pdf"
Content-Transfer-Encoding: base64
Content-ID: <c1@example.test>
Content-Description: =?utf-8?q?R=C3=A9sum=C3=A9?=

AAAA
--b "q" 1
Content-Type: message/rfc822

From: inner@example.test
Subject: inner
Content-Type: multipart/alternative; boundary=in

--in
Content-Type: text/plain

inner text
--in
Content-Type: text/html

<p>inner</p>
--in--
--b "q" 1--
`);

/** What the producer reads of a row, comparable with deepEqual. */
function view(row: FetchMessageObject) {
  return {
    uid: row.uid,
    flags: row.flags ? [...row.flags] : undefined,
    size: row.size,
    internalDate: row.internalDate,
    bodyStructure: row.bodyStructure,
    headers: row.headers ? [...row.headers] : undefined,
    bodyParts: row.bodyParts ? [...row.bodyParts].map(([k, v]) => [k, [...(v || [])]]) : undefined,
    emailId: row.emailId,
    threadId: row.threadId,
    labels: row.labels ? [...row.labels] : undefined,
  };
}

async function imapflowRows(client: ImapFlow, query: FetchQueryObject) {
  const rows: FetchMessageObject[] = [];
  for await (const row of client.fetch("1:*", query, { uid: true })) rows.push(row);
  return rows.map(view);
}

async function readerRows(client: ImapFlow, query: FetchQueryObject) {
  const rows: FetchMessageObject[] = [];
  await streamRows(client, "1:*", query, rows);
  return rows.map(view);
}

// Over TLS too: the framing keeps literals as views of the chunks the socket hands over, so
// rows read early must still be right after the last one came (the comparison runs then).
for (const tls of [false, true]) {
  Deno.test(`the row reader reads every producer row as imapflow does, on a real Dovecot (${tls ? "TLS" : "plain"})`, async () => {
    await using dovecot = await startDovecot({ tls });
    for (let i = 0; i < 30; i++) {
      await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i), {
        flags: i % 3 ? ["\\Seen", "$Label1"] : [],
      });
    }
    for (let v = 0; v < 3; v++) await dovecot.append(TEST_USER, "INBOX", malformedMessage(v));
    await dovecot.append(TEST_USER, "INBOX", ODD_STRUCTURE, { flags: ["\\Flagged", "Junk"] });
    const client = await dovecot.client(TEST_USER);
    try {
      assert.equal(client.secureConnection, tls);
      await client.mailboxOpen("INBOX", { readOnly: true });
      assert.equal(installRowReader(client), true);
      const parts: FetchQueryObject = {
        uid: true,
        bodyParts: [{ key: "1", maxLength: 300 }, { key: "2", maxLength: 5000 }, {
          key: "3.1",
          maxLength: 40,
        }],
      };
      for (const query of [METADATA_QUERY, parts]) {
        const expected = await imapflowRows(client, query);
        const before = { ...rowReaderStats(client)! };
        const actual = await readerRows(client, query);
        assert.equal(actual.length, 34);
        assert.deepEqual(actual, expected);
        const stats = rowReaderStats(client)!;
        assert.equal(stats.fast - before.fast, 34, "every row read by our reader");
        assert.equal(stats.framed - before.framed, 34, "every row taken where it was framed");
        assert.equal(stats.imapflow - before.imapflow, 0, "no row left to imapflow");
      }
    } finally {
      await client.logout();
    }
  });
}

Deno.test("a row fetch ends IDLE first and fails promptly when the connection closes", async () => {
  await using dovecot = await startDovecot();
  for (let i = 0; i < 5; i++) await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i));
  const client = await dovecot.client(TEST_USER);
  try {
    await client.mailboxOpen("INBOX", { readOnly: true });
    installRowReader(client);
    const idle = client.idle();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const rows: FetchMessageObject[] = [];
    await streamRows(client, "1:*", METADATA_QUERY, rows);
    assert.equal(rows.length, 5);
    await idle;
    const pending = streamRows(client, "1:*", METADATA_QUERY, []);
    client.close();
    await assert.rejects(pending);
  } finally {
    client.close();
  }
});
