import assert from "node:assert/strict";
import { loadConfig } from "../config/config.ts";
import { ConfigError } from "../errors.ts";
import { silentLogger } from "../log/logger.ts";
import { clusterOptions } from "./cluster.ts";
import { redisOptions, redisTarget } from "./connection.ts";

Deno.test("REDIS_CLUSTER_NODES reads host:port seeds, IPv6 in brackets", () => {
  const config = loadConfig({
    env: { REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-b:7001,[::1]:7002", STREAM_PARTITIONS: "6" },
  });
  assert.deepEqual(config.redis.clusterNodes, [
    { host: "10.0.0.1", port: 7000 },
    { host: "redis-b", port: 7001 },
    { host: "::1", port: 7002 },
  ]);
  assert.equal(redisTarget(config.redis), "cluster 10.0.0.1:7000,redis-b:7001,[::1]:7002");
  assert.deepEqual(loadConfig({ env: {} }).redis.clusterNodes, []);
});

Deno.test("REDIS_CLUSTER_NODES names every item that is not host:port", () => {
  assert.throws(
    () => loadConfig({ env: { REDIS_CLUSTER_NODES: "a:1,b,c:99999" } }),
    (error: unknown) => error instanceof ConfigError && /not one: b, c:99999/.test(error.message),
  );
});

Deno.test("clusterOptions() gives every node REDIS_URL's ACL user, password and TLS", () => {
  const config = loadConfig({
    env: {
      REDIS_URL: "rediss://ingest:s%40cret@redis.internal:6380",
      REDIS_CLUSTER_NODES: "10.0.0.1:7000",
      STREAM_PARTITIONS: "3",
    },
  });
  const options = clusterOptions(redisOptions(config.redis, { name: "t", logger: silentLogger }));
  assert.equal(options.redisOptions?.username, "ingest");
  assert.equal(options.redisOptions?.password, "s@cret");
  assert.deepEqual(options.redisOptions?.tls, { servername: "redis.internal" });
  assert.ok(!("host" in (options.redisOptions ?? {})), "seeds come from REDIS_CLUSTER_NODES");
  assert.equal(typeof options.dnsLookup, "function");
  assert.ok((options.maxRedirections ?? 0) >= 16);
});

Deno.test("REDIS_CLUSTER_NODES with one partition is refused with the reason", () => {
  assert.throws(
    () => loadConfig({ env: { REDIS_CLUSTER_NODES: "a:1" } }),
    (error: unknown) =>
      error instanceof ConfigError && /needs STREAM_PARTITIONS >= 2/.test(error.message),
  );
});
