import assert from "node:assert/strict";
import { loadConfig } from "../src/config/config.ts";
import { IngestError } from "../src/errors.ts";
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
            // A client that rejects at once (slots being refreshed) would make this a loop of
            // microtasks only: no timer would fire again, not even the one that sets `stop`.
            await new Promise((r) => setTimeout(r, 5));
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

Deno.test({
  name:
    "connectRedis() on a cluster logs in with REDIS_URL's ACL user; a wrong password fails fast",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using cluster = await startRedisCluster({ password: "admin-secret" });
    for (const node of cluster.nodes) {
      await cluster.cli(["ACL", "SETUSER", "ingest", "on", ">s3cret", "~*", "+@all"], node.port);
    }
    const connect = (url: string) =>
      connectRedis(
        loadConfig({
          env: { REDIS_URL: url, REDIS_CLUSTER_NODES: cluster.seeds, STREAM_PARTITIONS: "3" },
        }).redis,
        { name: "t", logger: silentLogger, connectTimeoutMs: 3_000 },
      );
    // REDIS_URL's host is not a node: only its user and password count in cluster mode.
    const redis = await connect("redis://ingest:s3cret@not-a-node.invalid");
    try {
      for (let i = 0; i < 10; i++) await redis.set(`acl${i}`, String(i));
      assert.equal(await redis.get("acl7"), "7");
      assert.equal((await redis.acl("WHOAMI")) as string, "ingest");
    } finally {
      await closeRedis(redis);
    }
    const started = Date.now();
    await assert.rejects(
      () => connect("redis://ingest:wrong@not-a-node.invalid"),
      (error: unknown) => error instanceof IngestError && error.code === "REDIS_AUTH",
    );
    assert.ok(Date.now() - started < 3_000, "a wrong password is final, not retried until timeout");
  },
});

Deno.test({
  name: "connectRedis() on a TLS-only cluster: rediss:// in REDIS_URL and the CA of REDIS_TLS_CA",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using cluster = await startRedisCluster({ tls: true });
    const env = {
      REDIS_URL: "rediss://localhost",
      REDIS_TLS_CA: cluster.caFile!,
      REDIS_CLUSTER_NODES: cluster.seeds,
      STREAM_PARTITIONS: "3",
    };
    const redis = await connectRedis(loadConfig({ env }).redis, {
      name: "t",
      logger: silentLogger,
    });
    try {
      for (let i = 0; i < 10; i++) await redis.set(`tls${i}`, String(i));
      assert.equal(await redis.get("tls3"), "3");
    } finally {
      await closeRedis(redis);
    }
    // Without the CA the certificate is not trusted: a clear error, not a hang.
    await assert.rejects(
      () =>
        connectRedis(loadConfig({ env: { ...env, REDIS_TLS_CA: "" } }).redis, {
          name: "t",
          logger: silentLogger,
          connectTimeoutMs: 2_000,
        }),
      IngestError,
    );
  },
});
