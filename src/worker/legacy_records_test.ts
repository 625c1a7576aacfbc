import assert from "node:assert/strict";
import { startRedis } from "../../tests/harness/redis_server.ts";
import { client } from "../../tests/worker_fixtures.ts";
import { legacyProcessedKey } from "../redis/keys.ts";
import { groupKeys } from "./group_keys.ts";
import { moveLegacyRecords } from "./legacy_records.ts";
import { processedRecordsExist, pruneExpiredRecords } from "./settle.ts";

Deno.test("moveLegacyRecords() moves release 0.1.0's records of one group into its set, once", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    // A stream name with SCAN's special characters must match only itself.
    const stream = "legacy[1]*?";
    const keys = groupKeys(stream, "g", `${stream}:dlq`);
    const old = (key: string) => legacyProcessedKey(stream, "g", key);
    const now = Date.now();
    for (let i = 0; i < 1_200; i++) {
      await redis.set(old(`k${i}`), '{"entry_id":"1-0","consumer":"c","at":"x"}', "EX", 600 + i);
    }
    await redis.set(old("no-ttl"), "{}");
    const others = [
      legacyProcessedKey(stream, "other", "k1"),
      legacyProcessedKey("legacy[1]x", "g", "k1"),
      legacyProcessedKey("legacy1", "g", "k1"),
    ];
    for (const key of others) await redis.set(key, "{}", "EX", 600);

    assert.equal(await moveLegacyRecords(redis, keys, 7_000, () => now), 1_201);
    assert.equal(await redis.zcard(keys.processed), 1_201);
    const score = Number(await redis.zscore(keys.processed, "k1199"));
    assert.ok(
      score > now + 1_798_000 && score <= now + 1_799_000,
      `k1199 keeps its expiry (${score - now} ms from now)`,
    );
    assert.equal(Number(await redis.zscore(keys.processed, "no-ttl")), now + 7_000);
    assert.deepEqual(
      await processedRecordsExist(redis, keys, ["k0", "no-ttl", "k1200"], now),
      [true, true, false],
    );
    assert.equal(await redis.exists(old("k0"), old("k1199"), old("no-ttl")), 0, "moved away");
    assert.equal(await redis.exists(...others), others.length, "other groups' records stay");
    assert.ok(Number(await redis.get(keys.processedMoved)) >= now, "the group is marked as moved");

    await redis.set(old("late"), "{}", "EX", 600);
    assert.equal(await moveLegacyRecords(redis, keys, 7_000), 0, "a moved group is not scanned");
    assert.equal(await redis.exists(old("late")), 1);
  } finally {
    redis.disconnect();
  }
});

Deno.test("pruneExpiredRecords() removes expired records in bounded script calls", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const keys = groupKeys("prune", "g", "prune:dlq");
    const pairs: (string | number)[] = [];
    for (let i = 0; i < 2_500; i++) pairs.push(1_000 + i, `k${i}`);
    await redis.zadd(keys.processed, ...pairs);
    assert.equal(await pruneExpiredRecords(redis, keys, 3_000, 1), 1_000, "one call: one batch");
    assert.equal(
      await pruneExpiredRecords(redis, keys, 3_000),
      1_001,
      "up to the clock, inclusive",
    );
    assert.equal(await redis.zcard(keys.processed), 499);
    assert.equal(await redis.zscore(keys.processed, "k2000"), null);
    assert.equal(Number(await redis.zscore(keys.processed, "k2001")), 3_001);
    assert.equal(await pruneExpiredRecords(redis, keys, 3_000), 0);
  } finally {
    redis.disconnect();
  }
});
