import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { commitBatch, type CommitEntry } from "../src/producer/commit.ts";
import { MailboxLease } from "../src/producer/lease.ts";
import { ensureGroup } from "../src/stream/group.ts";
import { trimStream } from "../src/producer/trim.ts";
import { streamBacklog } from "../src/producer/backlog.ts";
import { readCursor } from "../src/state/cursor.ts";
import { testEntry } from "../src/producer/_test_entry.ts";
import { SCHEMA_VERSION } from "../src/stream/entry.ts";
import { startRedis } from "./harness/redis_server.ts";

function entry(uid: number, dedupe = `mid:<${uid}@test>`): CommitEntry {
  return { ...testEntry("me@test", uid, 5), dedupeId: dedupe };
}

async function idempotencyKeys(redis: Redis, stream: string): Promise<string[]> {
  const entries = await redis.xrange(stream, "-", "+");
  return entries.map(([, fields]) => fields[fields.indexOf("idempotency_key") + 1]!);
}

Deno.test("commitBatch", async (t) => {
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1", { lazyConnect: true });
  await redis.connect();
  const ref = { account: "me@test", mailbox: "INBOX" };
  const stream = `s-${crypto.randomUUID()}`;
  const lease = new MailboxLease(redis, ref, 5_000);

  try {
    await t.step("publishes a batch and moves the cursor in the seed's key layout", async () => {
      assert.equal(await lease.acquire(), true);
      const result = await commitBatch(redis, {
        stream,
        ref,
        leaseToken: lease.token,
        expected: { uidValidity: null, lastUid: null },
        uidValidity: 5,
        lastUid: 2,
        entries: [entry(1), entry(2)],
      });
      assert.deepEqual(result, { status: "ok", published: 2, skipped: 0, total: 2, changed: 0 });
      assert.deepEqual(await idempotencyKeys(redis, stream), [
        "me@test:INBOX:5:1",
        "me@test:INBOX:5:2",
      ]);
      assert.equal(await redis.get("producer_state:me@test:INBOX:last_uid"), "2");
      const cursor = await readCursor(redis, ref);
      assert.equal(cursor?.uidValidity, 5);
      assert.equal(cursor?.totalEmails, 2);
      assert.ok(cursor?.lastPoll);
    });

    await t.step("a replayed commit finds the cursor moved and writes nothing", async () => {
      const result = await commitBatch(redis, {
        stream,
        ref,
        leaseToken: lease.token,
        expected: { uidValidity: null, lastUid: null },
        uidValidity: 5,
        lastUid: 2,
        entries: [entry(1), entry(2)],
      });
      assert.deepEqual(result, { status: "cursor_moved" });
      assert.equal(await redis.xlen(stream), 2);
    });

    await t.step(
      "messages already published are skipped, and a reset entry is written",
      async () => {
        const result = await commitBatch(redis, {
          stream,
          ref,
          leaseToken: lease.token,
          expected: { uidValidity: 5, lastUid: 2 },
          uidValidity: 6,
          lastUid: 3,
          entries: [entry(1), entry(3), entry(3)],
          reset: {
            schema_version: SCHEMA_VERSION,
            account: "me@test",
            mailbox: "INBOX",
            previous_uidvalidity: 5,
            uidvalidity: 6,
            at: new Date().toISOString(),
          },
        });
        assert.deepEqual(result, { status: "ok", published: 1, skipped: 2, total: 3, changed: 0 });
        const keys = await idempotencyKeys(redis, stream);
        assert.deepEqual(keys.slice(2), ["me@test:INBOX:reset:5:6", "me@test:INBOX:5:3"]);
      },
    );

    await t.step("a producer without the lease cannot commit (fencing)", async () => {
      const other = new MailboxLease(redis, ref, 5_000);
      assert.equal(await other.acquire(), false);
      const result = await commitBatch(redis, {
        stream,
        ref,
        leaseToken: other.token,
        expected: { uidValidity: 6, lastUid: 3 },
        uidValidity: 6,
        lastUid: 4,
        entries: [entry(4)],
      });
      assert.deepEqual(result, { status: "lease_lost" });
      await lease.release();
      assert.equal(await other.acquire(), true);
      assert.equal(await lease.acquire(), false);
      await other.release();
    });
  } finally {
    redis.disconnect();
  }
});

Deno.test("trimStream never removes an entry a group has not acknowledged", async () => {
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1");
  const stream = `s-${crypto.randomUUID()}`;
  try {
    await ensureGroup(redis, stream, "workers");
    await ensureGroup(redis, stream, "workers"); // idempotent
    for (let i = 0; i < 20; i++) await redis.xadd(stream, "*", "n", String(i));
    // No worker ran yet: nothing is acknowledged, so nothing may go.
    assert.equal(await trimStream(redis, stream, { maxLength: 5 }), 0);
    assert.equal(await streamBacklog(redis, stream), 20);

    // The worker reads 12 and acknowledges 10 of them; 2 stay pending.
    const read = await redis.xreadgroup(
      "GROUP",
      "workers",
      "w1",
      "COUNT",
      12,
      "STREAMS",
      stream,
      ">",
    ) as [
      string,
      [string, string[]][],
    ][];
    const ids = read[0]![1].map(([id]) => id);
    await redis.xack(stream, "workers", ...ids.slice(0, 4), ...ids.slice(6, 12));
    assert.equal(await streamBacklog(redis, stream), 8 + 2);
    // Entries 0-3 are acknowledged; entry 4 is the oldest pending: the safe point.
    assert.equal(await trimStream(redis, stream, { maxLength: 5 }), 4);
    const first = await redis.xrange(stream, "-", "+", "COUNT", 1);
    assert.equal(first[0]![0], ids[4]);

    // A second group that has read nothing protects everything again.
    await ensureGroup(redis, stream, "audit");
    await redis.xack(stream, "workers", ids[4]!, ids[5]!);
    assert.equal(await trimStream(redis, stream, { maxLength: 5 }), 0);
    assert.equal(await redis.xlen(stream), 16);

    // Once every group is done, the length target applies, and no further.
    await redis.xgroup("SETID", stream, "audit", "$");
    const rest = await redis.xreadgroup("GROUP", "workers", "w1", "STREAMS", stream, ">") as [
      string,
      [string, string[]][],
    ][];
    await redis.xack(stream, "workers", ...rest[0]![1].map(([id]) => id));
    assert.equal(await trimStream(redis, stream, { maxLength: 5 }), 11);
    assert.equal(await redis.xlen(stream), 5);
  } finally {
    redis.disconnect();
  }
});
