import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis } from "../../tests/harness/redis_server.ts";
import { silentLogger } from "../log/logger.ts";
import { cursorKey } from "../redis/keys.ts";
import type { EmailPayload } from "../stream/entry.ts";
import { dryRunMode, DryRunPublisher } from "./dry_run_publisher.ts";
import { MailboxReport } from "./mailbox_report.ts";
import { initialStatus } from "./mailbox_status.ts";
import { testEntry } from "./_test_entry.ts";

const start = { kind: "all" as const, uid: () => Promise.resolve(0) };

Deno.test("DryRunPublisher prints payloads, remembers its position and writes nothing to Redis", async () => {
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1", { lazyConnect: true });
  await redis.connect();
  try {
    const ref = { account: "me@test", mailbox: "INBOX" };
    // A cursor left by an earlier real run: the dry run shows what would come next.
    await redis.mset(cursorKey(ref, "last_uid"), "5", cursorKey(ref, "uidvalidity"), "7");
    const before = (await redis.keys("*")).sort();
    const report = new MailboxReport({
      ref,
      status: initialStatus(ref.account, ref.mailbox),
      observer: {},
      logger: silentLogger,
    });
    const printed: EmailPayload[] = [];
    const publisher = new DryRunPublisher({
      redis,
      ref,
      report,
      logger: silentLogger,
      print: (payload) => printed.push(payload),
    });
    assert.equal(publisher.lease, undefined, "a dry run takes no lease");

    const position = await publisher.prepare(7, start);
    assert.deepEqual(position, { uidValidity: 7, lastUid: 5 });
    await publisher.waitForRoom();
    const entries = [6, 7].map((uid) => testEntry(ref.account, uid, 7));
    const next = await publisher.publish(position, { lastUid: 8, entries });
    assert.deepEqual(next, { uidValidity: 7, lastUid: 8 });
    assert.deepEqual(printed.map((p) => p.uid), [6, 7]);
    assert.equal(report.status.published, 2);
    assert.deepEqual(await publisher.recordPoll(next), next);

    // After a reconnect it goes on from where it got to, not from the stored cursor.
    assert.deepEqual(await publisher.prepare(7, start), { uidValidity: 7, lastUid: 8 });
    // A UIDVALIDITY change is reconciled in memory only: no mailbox_reset is written.
    assert.deepEqual(await publisher.prepare(9, start), { uidValidity: 9, lastUid: 0 });

    assert.deepEqual((await redis.keys("*")).sort(), before);
    assert.equal(await redis.get(cursorKey(ref, "last_uid")), "5");
  } finally {
    redis.disconnect();
  }
});

Deno.test("dryRunMode() prepares nothing in Redis", async () => {
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1", { lazyConnect: true });
  await redis.connect();
  try {
    await dryRunMode(redis, () => {}).prepareStream();
    assert.equal(await redis.dbsize(), 0);
  } finally {
    redis.disconnect();
  }
});
