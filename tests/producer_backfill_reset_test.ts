/**
 * What ends a history backfill early, against a real Dovecot and Redis: a
 * UIDVALIDITY change mid-backfill (the live path re-syncs, the backfill is
 * dropped, nothing is published twice), and `ingest state reset`.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { readBackfill } from "../src/state/backfill.ts";
import { runIngest, spawnIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";

const REF = { account: TEST_USER, mailbox: "Archive" };
const encoder = new TextEncoder();

function message(tag: string): Uint8Array {
  return encoder.encode(
    `From: s@example.test\r\nTo: ${TEST_USER}\r\nSubject: ${tag}\r\nMessage-ID: <${tag}@reset.test>\r\n` +
      `Date: Mon, 1 Jun 2026 10:00:00 +0000\r\n\r\nbody of ${tag}\r\n`,
  );
}

function* history(count: number): Iterable<Uint8Array> {
  for (let i = 0; i < count; i++) yield message(`old-${i}`);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Message-IDs of the email entries in `stream`, and the count of mailbox_reset entries. */
async function streamContent(redis: Redis, stream: string) {
  const entries = await redis.xrange(stream, "-", "+");
  const ids: string[] = [];
  let resets = 0;
  for (const [, fields] of entries) {
    const type = fields[fields.indexOf("type") + 1];
    if (type === "mailbox_reset") resets++;
    if (type !== "email") continue;
    ids.push(JSON.parse(fields[fields.indexOf("payload") + 1]!).message_id);
  }
  return { ids, resets };
}

Deno.test("a UIDVALIDITY change mid-backfill drops the backfill; the re-sync publishes nothing twice", async () => {
  await using dovecot = await startDovecot();
  await using server = await startRedis();
  const redis = new Redis(server.url);
  const stream = `reset-${crypto.randomUUID().slice(0, 8)}`;
  const env = {
    ...pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream }),
    IMAP_MAILBOX: "Archive",
    BATCH_SIZE: "100",
    // Dovecot does not tell an IDLE on a deleted mailbox: the NOOP check finds out.
    IMAP_IDLE_CHECK_SECONDS: "2",
    LOG_LEVEL: "info",
  };
  await dovecot.seedMaildir(TEST_USER, "Archive", history(4000));
  const producer = spawnIngest(["produce"], { env });
  try {
    await until("the backfill to be part-way", async () => {
      const backfill = await readBackfill(redis, REF);
      return backfill !== null && backfill.doneUid >= 200 && backfill.state === "running";
    });
    const before = await readBackfill(redis, REF);
    // The mailbox is recreated: a new UIDVALIDITY, one message already published, two new ones.
    await dovecot.deleteMailbox(TEST_USER, "Archive");
    // The producer's sessions go before the new mailbox comes (see Dovecot.kick()).
    await dovecot.kick(TEST_USER);
    await dovecot.createMailbox(TEST_USER, "Archive");
    for (const tag of ["old-0", "new-1", "new-2"]) {
      await dovecot.append(TEST_USER, "Archive", message(tag));
    }
    await until("the re-sync", async () => {
      const { ids } = await streamContent(redis, stream);
      return ids.includes("<new-2@reset.test>");
    });
    await until(
      "the backfill to be dropped",
      async () => (await readBackfill(redis, REF)) === null,
    );
    const { ids, resets } = await streamContent(redis, stream);
    console.log(
      `backfill dropped at ${before?.doneUid}/4000; stream: ${ids.length} emails, ${resets} reset`,
    );
    assert.equal(resets, 1);
    assert.equal(new Set(ids).size, ids.length, "an email was published twice");
    assert.ok(ids.includes("<new-1@reset.test>"));
    assert.equal(ids.filter((id) => id === "<old-0@reset.test>").length, 1);
    // The cursor is the server's own end of the new mailbox.
    const imap = await dovecot.client(TEST_USER);
    const status = await imap.status("Archive", { uidNext: true, uidValidity: true });
    await imap.logout();
    if (!status) throw new Error("STATUS Archive failed");
    const validity = await redis.get(`producer_state:${TEST_USER}:Archive:uidvalidity`);
    assert.notEqual(Number(validity), before?.uidValidity);
    assert.equal(Number(validity), Number(status.uidValidity));
    assert.equal(
      await redis.get(`producer_state:${TEST_USER}:Archive:last_uid`),
      String(status.uidNext! - 1),
    );
  } catch (error) {
    producer.kill("SIGTERM");
    const log = new TextDecoder().decode((await producer.output()).stderr);
    throw new Error(`${error}\nproducer log:\n${log.split("\n").slice(-40).join("\n")}`);
  } finally {
    try {
      producer.kill("SIGTERM");
      await producer.output();
    } catch {
      // already collected
    }
    redis.disconnect();
  }
});

Deno.test("ingest state reset drops a mailbox's backfill record with its cursor", async () => {
  await using server = await startRedis();
  const redis = new Redis(server.url);
  try {
    await redis.hset(`producer_backfill:${TEST_USER}:INBOX`, {
      uidvalidity: "7",
      floor_uid: "0",
      snapshot_uid: "500",
      done_uid: "200",
      state: "running",
      published: "200",
      started_at: "2026-06-01T10:00:00.000Z",
    });
    await redis.set(`producer_state:${TEST_USER}:INBOX:last_uid`, "510");
    await redis.set(`producer_state:${TEST_USER}:INBOX:uidvalidity`, "7");
    const env = { REDIS_URL: server.url, IMAP_USER: TEST_USER, IMAP_MAILBOX: "INBOX" };
    const got = await runIngest(["state", "get", "--json"], { env });
    assert.equal(got.code, 0, got.stderr);
    const backfill = JSON.parse(got.stdout).cursors[0].backfill;
    assert.deepEqual([backfill.state, backfill.done_uid, backfill.remaining_uids], [
      "running",
      200,
      300,
    ]);
    const table = await runIngest(["state", "get"], { env });
    assert.match(table.stdout, /running 200\/500/);
    const reset = await runIngest([
      "state",
      "reset",
      "--mailbox",
      "INBOX",
      "--to-uid",
      "0",
      "--yes",
    ], { env });
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal(await redis.exists(`producer_backfill:${TEST_USER}:INBOX`), 0);
  } finally {
    redis.disconnect();
  }
});
