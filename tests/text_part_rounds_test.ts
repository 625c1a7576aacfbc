/**
 * Text parts come in two rounds against a real Dovecot: the first asks for 3
 * bytes a kept character, and only a part cut before it holds them (UTF-8 in
 * quoted-printable: up to 9 bytes a character here) is continued. The payload
 * text must be the same as if the whole part had been downloaded, with
 * imapflow's FETCH parser as with ours.
 */

import assert from "node:assert/strict";
import { passwordCredentials } from "../src/imap/credentials.ts";
import { openMailboxSession } from "../src/imap/mailbox_session.ts";
import { buildEmailPayloads } from "../src/imap/message_payload.ts";
import { silentLogger } from "../src/log/logger.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { TEST_PASSWORD, TEST_USER } from "./harness/pipeline_env.ts";

const CHARS = 2_000;
const LIMITS = { bodyTextChars: CHARS, bodyHtmlChars: 500, maxMessageBytes: 25 * 1024 * 1024 };

/** Quoted-printable of UTF-8 text, every non-ASCII byte escaped, lines of at most 76. */
function quotedPrintable(text: string): string {
  const lines: string[] = [];
  let line = "";
  for (const byte of new TextEncoder().encode(text)) {
    const token = byte >= 0x80 || byte === 0x3d
      ? `=${byte.toString(16).toUpperCase().padStart(2, "0")}`
      : String.fromCharCode(byte);
    if (line.length + token.length > 75) {
      lines.push(line + "=");
      line = "";
    }
    line += token;
  }
  return [...lines, line].join("\r\n");
}

function message(subject: string, body: string): Uint8Array {
  return new TextEncoder().encode(
    [
      "From: a@example.test",
      "To: b@example.test",
      `Subject: ${subject}`,
      `Message-ID: <${subject}@example.test>`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      quotedPrintable(body),
      "",
    ].join("\r\n"),
  );
}

const BODIES: Record<string, string> = {
  // ≈ 1 byte a character: the first round holds it.
  latin: "Plain words of a longer letter. ".repeat(400),
  // 6 bytes a character (2-byte UTF-8, escaped): cut at ≈ 1,170 characters, continued.
  cyrillic: "Съешь же ещё этих мягких французских булок. ".repeat(300),
  // 9 bytes a character (3-byte UTF-8, escaped): cut at ≈ 780 characters, continued.
  cjk: "春眠不覚暁処処聞啼鳥夜来風雨声花落知多少".repeat(300),
};

for (const rowReader of [true, false]) {
  Deno.test(`text parts cut short are continued until the kept text is whole (${rowReader ? "our" : "imapflow's"} FETCH parser)`, async () => {
    await using dovecot = await startDovecot();
    await dovecot.seedMaildir(
      TEST_USER,
      "INBOX",
      Object.entries(BODIES).map(([name, body]) => message(name, body)),
    );
    const session = await openMailboxSession({
      server: { host: "127.0.0.1", port: dovecot.port, secure: false },
      credentials: passwordCredentials(TEST_USER, TEST_PASSWORD),
      mailbox: "INBOX",
      logger: silentLogger,
      rowReader,
    });
    try {
      const fetched = await session.fetchBatch(await session.newUids(0), LIMITS);
      const built = await buildEmailPayloads(fetched.messages, {
        account: TEST_USER,
        mailbox: "INBOX",
        uidValidity: 1,
        bodyTextChars: CHARS,
        bodyHtmlChars: 500,
      });
      for (const { payload } of built) {
        const body = BODIES[payload.subject!]!;
        assert.equal(payload.body_text, body.slice(0, CHARS), payload.subject!);
        assert.equal(payload.parse_error, undefined, payload.subject!);
      }
      const downloaded = (name: string) =>
        fetched.messages.find((m) => m.uid === Object.keys(BODIES).indexOf(name) + 1)!.text!.bytes
          .length;
      assert.equal(downloaded("latin"), CHARS * 3 + 1024, "one round for Latin text");
      assert.ok(downloaded("cyrillic") > CHARS * 3 + 1024, "Cyrillic was continued");
      assert.ok(downloaded("cjk") > CHARS * 3 + 1024, "CJK was continued");
    } finally {
      await session.close();
    }
  });
}
