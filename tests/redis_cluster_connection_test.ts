import assert from "node:assert/strict";
import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/log/logger.ts";
import { isCluster } from "../src/redis/client.ts";
import { closeRedis, connectRedis } from "../src/redis/connection.ts";
import { startRedisCluster } from "./harness/redis_cluster.ts";

Deno.test({
  name: "connectRedis() with REDIS_CLUSTER_NODES follows MOVED and carries on over a failover",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using cluster = await startRedisCluster();
    // One seed is enough: the client learns the other nodes from it.
    const seed = cluster.nodes[0]!.port;
    const config = loadConfig({
      env: { REDIS_CLUSTER_NODES: `127.0.0.1:${seed}`, STREAM_PARTITIONS: "3" },
    });
    const redis = await connectRedis(config.redis, { name: "t", logger: silentLogger });
    const blocking = await connectRedis(config.redis, { name: "t:blocking", logger: silentLogger });
    try {
      assert.ok(isCluster(redis));
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
      for (const key of keys) await redis.set(key, key);
      const owners = new Set(await Promise.all(keys.map((k) => cluster.masterOf(k))));
      assert.equal(owners.size, 3, "the keys spread over all three masters");
      for (const key of keys) assert.equal(await redis.get(key), key);

      // A blocking read on its own client does not hold up the other one.
      const read = blocking.xread("BLOCK", 5_000, "STREAMS", "{s}x", "$");
      await new Promise((r) => setTimeout(r, 100));
      await redis.xadd("{s}x", "*", "f", "v");
      const got = await read;
      assert.equal(got?.[0]?.[1]?.[0]?.[1]?.[1], "v");

      let stop = false;
      let written = 0;
      let failures = 0;
      const writer = (async () => {
        while (!stop) {
          try {
            await redis.incr("{c}n");
            written++;
          } catch {
            failures++;
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 200));
      const promoted = await cluster.killMaster(await cluster.masterOf("{c}n"));
      const atPromotion = written;
      await new Promise((r) => setTimeout(r, 1_000));
      stop = true;
      await writer;
      assert.ok(written > atPromotion, `writes go on after the promotion (${failures} failed)`);
      assert.equal(await cluster.masterOf("{c}n"), promoted);
      assert.ok(Number(await redis.get("{c}n")) > 0);
    } finally {
      await closeRedis(blocking);
      await closeRedis(redis);
    }
  },
});
