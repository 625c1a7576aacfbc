/**
 * The payloads the producer really writes (dry run and real run, email and
 * mailbox_reset entries, the optional parse_error, body_skipped and parsed_by)
 * and the documents sinks receive match docs/schemas/stream_payload.v1 and
 * sink_delivery.v1.
 */

import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";
import {
  largeMessage,
  malformedMessage,
  REALISTIC_KINDS,
  realisticMessage,
} from "./harness/mail.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";
import { readJsonLines } from "./worker_fixtures.ts";

// multipart/mixed without its boundary: the server's structure is wrong, so parsed_by is "full".
const NO_BOUNDARY = new TextEncoder().encode(
  [
    "From: a@example.test",
    "To: b@example.test",
    "Subject: no boundary",
    "Message-ID: <nb@example.test>",
    "MIME-Version: 1.0",
    "Content-Type: multipart/mixed",
    "",
    "--frontier",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Text behind a boundary nobody declared.",
    "--frontier--",
    "",
  ].join("\r\n"),
);

type Payload = Record<string, unknown>;

/** Which optional keys the payloads carry, so the test proves those branches were checked. */
function optionalKeys(payloads: readonly Payload[]): string[] {
  return ["parse_error", "body_skipped", "parsed_by"].filter((key) =>
    payloads.some((p) => key in p)
  );
}

Deno.test("the payloads the producer writes and the documents sinks get match their schemas", async (t) => {
  await using dovecot = await startDovecot();
  await using redis = await startRedis();
  for (let i = 0; i < REALISTIC_KINDS.length; i++) {
    await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i));
  }
  await dovecot.append(TEST_USER, "INBOX", malformedMessage(0));
  await dovecot.append(TEST_USER, "INBOX", largeMessage(120_000));
  await dovecot.append(TEST_USER, "INBOX", NO_BOUNDARY);
  const stream = `payload-${crypto.randomUUID().slice(0, 8)}`;
  const env = {
    ...pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url, stream, logLevel: "warn" }),
    MAX_MESSAGE_BYTES: "100000",
  };
  const produce = async (...args: string[]) => {
    const run = await runIngest(["produce", "--once", ...args], { env });
    assert.equal(run.code, 0, run.stderr);
    return run.stdout;
  };
  const entries = async () => {
    const raw = await redis.cli("--json", "XRANGE", stream, "-", "+");
    return (JSON.parse(raw) as [string, string[]][]).map(([id, fields]) => ({
      id,
      type: fields[fields.indexOf("type") + 1],
      payload: JSON.parse(fields[fields.indexOf("payload") + 1]!) as Payload,
    }));
  };
  const dir = await Deno.makeTempDir({ prefix: "ingest-payload-schema-" });
  try {
    await t.step("produce --dry-run: every printed line", async () => {
      const lines = (await produce("--dry-run")).trim().split("\n");
      const payloads = lines.map((line) => JSON.parse(line) as Payload);
      assert.equal(payloads.length, REALISTIC_KINDS.length + 3);
      for (const payload of payloads) await assertMatchesSchema("stream_payload.v1", payload);
      assert.deepEqual(optionalKeys(payloads), ["parse_error", "body_skipped", "parsed_by"]);
    });

    await t.step(
      "a real run: every payload in the stream, a mailbox_reset entry included",
      async () => {
        await dovecot.createMailbox(TEST_USER, "Team");
        await dovecot.append(TEST_USER, "Team", await realisticMessage(1));
        await produce();
        await produce("--mailbox", "Team");
        // A new UIDVALIDITY: the producer writes a mailbox_reset entry.
        await dovecot.deleteMailbox(TEST_USER, "Team");
        await dovecot.createMailbox(TEST_USER, "Team");
        await dovecot.append(TEST_USER, "Team", await realisticMessage(2));
        await produce("--mailbox", "Team");
        const written = await entries();
        assert.deepEqual(
          [...new Set(written.map((e) => e.type))].sort(),
          ["email", "mailbox_reset"],
        );
        for (const entry of written) await assertMatchesSchema("stream_payload.v1", entry.payload);
        const emails = written.filter((e) => e.type === "email").map((e) => e.payload);
        assert.deepEqual(optionalKeys(emails), ["parse_error", "body_skipped", "parsed_by"]);
        // The type field and the payload agree: an email payload never passes as a reset.
        for (const entry of written) {
          assert.equal("uid" in entry.payload, entry.type === "email", entry.id);
        }
      },
    );

    await t.step("what the file sink writes: one delivery document per entry", async () => {
      const out = `${dir}/out.jsonl`;
      const run = await runIngest(["work", "--drain", "--sink", `file:${out}`], {
        env: { ...env, HEALTH_PORT: "0" },
      });
      assert.equal(run.code, 0, run.stderr);
      const documents = await readJsonLines(out);
      assert.equal(documents.length, (await entries()).length);
      for (const document of documents) await assertMatchesSchema("sink_delivery.v1", document);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
