/**
 * The change section of the producer's one commit script, on a real
 * redis-server: change entries, the flag state and the HIGHESTMODSEQ mark
 * move together, a repeated commit (a reply lost, ioredis resending) writes
 * nothing, and a UIDVALIDITY reset drops the state.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { commitBatch, type CommitRequest } from "../src/producer/commit.ts";
import { testEntry } from "../src/producer/_test_entry.ts";
import { flagStateKey, modseqKey } from "../src/redis/keys.ts";
import { messageDeletedEntryFields, SCHEMA_VERSION } from "../src/stream/entry.ts";
import { startRedis } from "./harness/redis_server.ts";

const ref = { account: "me@test", mailbox: "INBOX" };

function deletion(uid: number): string[] {
  return messageDeletedEntryFields({
    schema_version: SCHEMA_VERSION,
    account: ref.account,
    mailbox: ref.mailbox,
    uid,
    uidvalidity: 5,
    email_key: `me@test:INBOX:5:${uid}`,
    modseq: "12",
    last_flags: [],
    detected_at: new Date().toISOString(),
  });
}

Deno.test("commitBatch() with a change section", async (t) => {
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1");
  const stream = `s-${crypto.randomUUID()}`;
  const unseen = JSON.stringify([[], null]);
  const base = { stream, ref, leaseToken: "", uidValidity: 5, lastUid: 3 };
  try {
    await t.step("emails, flag state and mark are committed together", async () => {
      const result = await commitBatch(redis, {
        ...base,
        expected: { uidValidity: null, lastUid: null },
        entries: [1, 2, 3].map((uid) => ({ ...testEntry("me@test", uid, 5), dedupeId: `${uid}` })),
        changes: {
          expectedMark: null,
          mark: "10",
          entries: [],
          writes: { set: [[unseen, "1:3"]], delete: [] },
        },
      });
      assert.equal(result.status, "ok");
      assert.equal(await redis.get(modseqKey(ref)), "10");
      assert.deepEqual(await redis.hgetall(flagStateKey(ref)), { [unseen]: "1:3" });
    });

    const change: CommitRequest = {
      ...base,
      expected: { uidValidity: 5, lastUid: 3 },
      entries: [],
      changes: {
        expectedMark: "10",
        mark: "12",
        entries: [deletion(2)],
        writes: { set: [[unseen, "1,3"]], delete: [] },
      },
    };

    await t.step("a change commit writes its entries, state and mark", async () => {
      const result = await commitBatch(redis, change);
      assert.deepEqual(result.status === "ok" && result.changed, 1);
      assert.equal(await redis.xlen(stream), 4);
      assert.equal(await redis.get(modseqKey(ref)), "12");
      assert.deepEqual(await redis.hgetall(flagStateKey(ref)), { [unseen]: "1,3" });
    });

    await t.step("the same commit again (a lost reply, resent) writes nothing", async () => {
      assert.deepEqual(await commitBatch(redis, change), { status: "cursor_moved" });
      assert.equal(await redis.xlen(stream), 4);
      assert.equal(await redis.get(modseqKey(ref)), "12");
    });

    await t.step("a UIDVALIDITY reset drops the flag state and the mark", async () => {
      const result = await commitBatch(redis, {
        ...base,
        expected: { uidValidity: 5, lastUid: 3 },
        uidValidity: 6,
        lastUid: 0,
        entries: [],
        changes: {
          expectedMark: "12",
          mark: null,
          clear: true,
          entries: [],
          writes: { set: [], delete: [] },
        },
      });
      assert.equal(result.status, "ok");
      assert.equal(await redis.exists(modseqKey(ref), flagStateKey(ref)), 0);
      assert.equal(await redis.xlen(stream), 4, "no deletions for the old UIDs");
    });
  } finally {
    redis.disconnect();
  }
});

Deno.test("change-tracking keys share the mailbox's partition hash tag", () => {
  const partitioned = { ...ref, partition: 3 };
  assert.equal(modseqKey(partitioned), "producer_modseq:{p3}:me@test:INBOX");
  assert.equal(flagStateKey(partitioned), "producer_flags:{p3}:me@test:INBOX");
});
