import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { largeMessage, malformedMessage, realisticMessage } from "./harness/mail.ts";
import { startRedis } from "./harness/redis_server.ts";
import type { EmailPayload } from "../src/stream/entry.ts";
import { pipelineEnv } from "./harness/pipeline_env.ts";

const USER = "alice@example.test";

interface Entry {
  id: string;
  type: string;
  key: string;
  payload: Record<string, unknown>;
}

async function entries(redis: Redis, stream: string): Promise<Entry[]> {
  const rows = await redis.xrange(stream, "-", "+");
  return rows.map(([id, fields]) => {
    const get = (name: string) => fields[fields.indexOf(name) + 1]!;
    return {
      id,
      type: get("type"),
      key: get("idempotency_key"),
      payload: JSON.parse(get("payload")),
    };
  });
}

function emails(list: Entry[]): EmailPayload[] {
  return list.filter((e) => e.type === "email").map((e) => e.payload as unknown as EmailPayload);
}

Deno.test("ingest produce --once against real Dovecot and Redis", async (t) => {
  await using dovecot = await startDovecot();
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1");
  const stream = `produce-${crypto.randomUUID()}`;
  const env = pipelineEnv({
    imapPort: dovecot.port,
    redisUrl: server.url,
    stream,
    user: USER,
    logLevel: "warn",
  });
  const produce = (...args: string[]) => runIngest(["produce", "--once", ...args], { env });

  try {
    for (let i = 0; i < 30; i++) await dovecot.append(USER, "INBOX", await realisticMessage(i));

    await t.step("the initial sync publishes every message once, in UID order", async () => {
      const result = await produce("--batch-size", "7");
      assert.equal(result.code, 0, result.stderr);
      const list = await entries(redis, stream);
      assert.equal(list.length, 30);
      assert.deepEqual(
        list.map((e) => e.key),
        Array.from(
          { length: 30 },
          (_, i) => `${USER}:INBOX:${list[0]!.payload.uidvalidity}:${i + 1}`,
        ),
      );
      assert.equal(await redis.get(`producer_state:${USER}:INBOX:last_uid`), "30");
      assert.equal(await redis.get(`producer_state:${USER}:INBOX:total_emails`), "30");
      assert.ok(await redis.get(`producer_state:${USER}:INBOX:last_poll`));
      // The worker group exists before any worker ran, so trimming protects the entries.
      const groups = await redis.xinfo("GROUPS", stream) as unknown[][];
      assert.equal(groups[0]![1], "email_workers");
    });

    await t.step("payloads carry decoded headers, bodies and attachment metadata", async () => {
      const list = emails(await entries(redis, stream));
      const plain = list[0]!;
      assert.equal(plain.schema_version, 1);
      assert.equal(plain.account, USER);
      assert.equal(plain.mailbox, "INBOX");
      assert.equal(plain.subject, "Status update #0");
      assert.equal(plain.message_id, "<msg-0.plain@ingest.test>");
      assert.deepEqual(plain.to, [USER]);
      assert.match(plain.body_text, /^Hello,\n\nThe quarterly numbers/);
      assert.equal(plain.gmail, null);
      assert.equal(plain.parse_error, undefined);
      const htmlOnly = list[2]!;
      assert.match(htmlOnly.body_text, /^Hello,\n\nThe quarterly numbers/);
      assert.match(htmlOnly.body_html_preview, /^<html><body>/);
      assert.match(list[3]!.subject ?? "", /^Grüße aus München — 会議の議事録 #3 ✓$/);
      assert.match(list[4]!.from ?? "", /^fm@example\.test$/);
      assert.match(list[4]!.subject ?? "", /^Réunion très importante/);
      assert.deepEqual(list[5]!.references, ["<msg-0.plain@ingest.test>"]);
      assert.equal(list[5]!.in_reply_to, "<msg-0.plain@ingest.test>");
      assert.deepEqual(list[6]!.cc, ["bob@example.test", "carol@example.test"]);
      assert.deepEqual(list[6]!.reply_to, ["team@example.test"]);
      assert.match(list[6]!.body_text, /Prix: 10 €/);
      assert.deepEqual(list[8]!.attachments, [
        { filename: "report-8.pdf", content_type: "application/pdf", size: 4096 },
      ]);
      assert.equal(list[7]!.attachments[0]?.content_type, "image/png");
      assert.match(list[9]!.body_text, /^Hello,/);
      for (const payload of list) assert.ok(payload.body_text.length <= 2000);
    });

    await t.step("an incremental sync publishes only the new messages", async () => {
      for (let i = 30; i < 35; i++) await dovecot.append(USER, "INBOX", await realisticMessage(i));
      const result = await produce();
      assert.equal(result.code, 0, result.stderr);
      const list = emails(await entries(redis, stream));
      assert.deepEqual(list.slice(30).map((p) => p.uid), [31, 32, 33, 34, 35]);
    });

    await t.step("a second --once adds nothing", async () => {
      const result = await produce();
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await redis.xlen(stream), 35);
    });

    await t.step("malformed messages are published with parse_error", async () => {
      for (let v = 0; v < 3; v++) await dovecot.append(USER, "INBOX", malformedMessage(v));
      const result = await produce();
      assert.equal(result.code, 0, result.stderr);
      const broken = emails(await entries(redis, stream)).slice(35);
      assert.equal(broken.length, 3);
      assert.match(broken[0]!.parse_error ?? "", /boundary/);
      assert.match(broken[1]!.parse_error ?? "", /invalid base64/);
      assert.match(broken[2]!.parse_error ?? "", /malformed header line/);
      assert.equal(broken[2]!.subject, "café été");
      assert.equal(await redis.get(`producer_state:${USER}:INBOX:last_uid`), "38");
    });

    await t.step("a message above --max-message-bytes is published without its body", async () => {
      await dovecot.append(USER, "INBOX", largeMessage(300_000));
      const result = await produce("--max-message-bytes", "100000");
      assert.equal(result.code, 0, result.stderr);
      const big = emails(await entries(redis, stream)).at(-1)!;
      assert.equal(big.body_skipped, "too_large");
      assert.equal(big.body_text, "");
      assert.equal(big.attachments[0]?.filename, "blob.bin");
      assert.ok(big.size > 290_000);
    });

    await t.step("--start latest skips what a new mailbox already holds", async () => {
      await dovecot.createMailbox(USER, "Archive");
      for (let i = 40; i < 43; i++) {
        await dovecot.append(USER, "Archive", await realisticMessage(i));
      }
      const before = await redis.xlen(stream);
      const first = await produce("--mailbox", "Archive", "--start", "latest");
      assert.equal(first.code, 0, first.stderr);
      assert.equal(await redis.xlen(stream), before);
      await dovecot.append(USER, "Archive", await realisticMessage(43));
      // Both mailboxes in one process: INBOX has nothing new, Archive one message.
      const second = await produce("--mailbox", "INBOX", "--mailbox", "Archive");
      assert.equal(second.code, 0, second.stderr);
      const added = emails(await entries(redis, stream)).slice(before);
      assert.deepEqual(added.map((p) => [p.mailbox, p.uid]), [["Archive", 4]]);
    });

    await t.step(
      "a UIDVALIDITY change re-syncs without re-emitting, with a mailbox_reset entry",
      async () => {
        await dovecot.createMailbox(USER, "Team");
        for (let i = 50; i < 53; i++) await dovecot.append(USER, "Team", await realisticMessage(i));
        assert.equal((await produce("--mailbox", "Team")).code, 0);
        const before = await redis.xlen(stream);
        const oldValidity = await redis.get(`producer_state:${USER}:Team:uidvalidity`);
        await dovecot.deleteMailbox(USER, "Team");
        await dovecot.createMailbox(USER, "Team");
        // The same three messages come back with new UIDs, plus one new message.
        for (let i = 50; i < 54; i++) await dovecot.append(USER, "Team", await realisticMessage(i));
        const result = await produce("--mailbox", "Team");
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /UIDVALIDITY changed/);
        const added = (await entries(redis, stream)).slice(before);
        assert.deepEqual(added.map((e) => e.type), ["mailbox_reset", "email"]);
        assert.equal(added[0]!.payload.previous_uidvalidity, Number(oldValidity));
        assert.equal(
          (added[1]!.payload as unknown as EmailPayload).message_id,
          "<msg-53.utf8-words@ingest.test>",
        );
        const validity = await redis.get(`producer_state:${USER}:Team:uidvalidity`);
        assert.notEqual(validity, oldValidity);
        assert.equal(await redis.get(`producer_state:${USER}:Team:last_uid`), "4");
      },
    );

    await t.step("--dry-run prints the payloads and writes nothing to Redis", async () => {
      await using empty = await startRedis();
      const result = await runIngest(["produce", "--once", "--dry-run"], {
        env: { ...env, REDIS_URL: empty.url },
      });
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
      assert.equal(lines.length, 39);
      assert.equal(lines[0].subject, "Status update #0");
      assert.equal((await empty.cli("DBSIZE")).trim(), "0");
    });

    await t.step("bad flags are usage errors that name every problem", async () => {
      const result = await runIngest(
        ["produce", "--start", "yesterday", "--lease-ttl", "x"],
        { env: { ...env, IMAP_USER: "" } },
      );
      assert.equal(result.code, 2);
      assert.match(result.stderr, /--start must be all, latest or a date/);
      assert.match(result.stderr, /--lease-ttl/);
      assert.match(result.stderr, /--account \(or IMAP_USER\) is required/);
    });

    await t.step("logs never contain addresses or subjects", async () => {
      await dovecot.append(USER, "INBOX", await realisticMessage(60));
      const result = await runIngest(["produce", "--once", "--log-level", "debug"], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stderr.length > 0);
      assert.doesNotMatch(result.stderr, /@example\.test|Status update/);
    });
  } finally {
    redis.disconnect();
  }
});
