import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { ConfigError, IngestError } from "../src/errors.ts";
import { commitBatch, type CommitEntry } from "../src/producer/commit.ts";
import { testEntry } from "../src/producer/_test_entry.ts";
import { checkStreamLayout } from "../src/redis/layout.ts";
import { mailboxRef, partitionStream } from "../src/redis/partitions.ts";
import { startRedis } from "./harness/redis_server.ts";
import { waitForPort } from "./harness/ports.ts";

function entry(uid: number): CommitEntry {
  return { ...testEntry("me@test", uid, 5), dedupeId: `mid:<${uid}@test>` };
}

Deno.test("checkStreamLayout() records STREAM_PARTITIONS once and refuses another count", async () => {
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1");
  try {
    // One partition on a fresh Redis: nothing recorded (the seed's layout gains no key).
    await checkStreamLayout(redis, "plain", 1);
    assert.equal(await redis.exists("ingest_layout:plain"), 0);
    await redis.xadd("plain", "*", "f", "v");
    await assert.rejects(
      () => checkStreamLayout(redis, "plain", 6),
      (e: unknown) => e instanceof ConfigError && /set up with 1 partition/.test(e.message),
      "the unpartitioned stream exists: 6 partitions would read every mailbox again",
    );

    await checkStreamLayout(redis, "fleet", 6);
    assert.equal(await redis.get("ingest_layout:fleet"), "6");
    await checkStreamLayout(redis, "fleet", 6);
    await assert.rejects(
      () => checkStreamLayout(redis, "fleet", 3),
      (e: unknown) =>
        e instanceof ConfigError && /STREAM_PARTITIONS is 3/.test(e.message) &&
        /set up with 6/.test(e.message) && /STREAM_PARTITIONS back to 6/.test(e.message),
    );
    await assert.rejects(() => checkStreamLayout(redis, "fleet", 1), ConfigError);
  } finally {
    redis.disconnect();
  }
});

Deno.test({
  name: "commitBatch() with replicas waits for a real replica, and fails retryably without one",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using primary = await startRedis();
    await using replica = await startRedis();
    const redis = new Redis(primary.port, "127.0.0.1");
    const ref = mailboxRef("me@test", "INBOX", 4);
    const stream = partitionStream("s", ref.partition);
    try {
      const commit = (lastUid: number, expected: number | null) =>
        commitBatch(redis, {
          stream,
          ref,
          leaseToken: "",
          expected: { uidValidity: expected === null ? null : 5, lastUid: expected },
          uidValidity: 5,
          lastUid,
          entries: [entry(lastUid)],
          replicas: { count: 1, timeoutMs: 200 },
        });
      await assert.rejects(
        () => commit(1, null),
        (e: unknown) =>
          e instanceof IngestError && e.code === "REDIS_REPLICAS_BEHIND" && e.retryable,
      );
      // The write stands on the primary: a retry reads the cursor back, nothing twice.
      assert.equal(await redis.xlen(stream), 1);

      await replica.cli("REPLICAOF", "127.0.0.1", String(primary.port));
      await waitForPort(replica.port);
      for (let i = 0; i < 100 && !/master_link_status:up/.test(await replica.cli("INFO")); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const result = await commit(2, 1);
      assert.equal(result.status, "ok");
      assert.equal(await replica.cli("XLEN", stream).then((s) => s.trim()), "2");
    } finally {
      redis.disconnect();
    }
  },
});
