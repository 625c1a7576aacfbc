import assert from "node:assert/strict";
import { loadConfig } from "../config/config.ts";
import { silentLogger } from "../log/logger.ts";
import { redisOptions, redisTarget } from "./connection.ts";

Deno.test("redisOptions() reads ACL user, password, db and TLS from REDIS_URL", () => {
  const config = loadConfig({
    env: { REDIS_URL: "rediss://ingest:s%40cret@redis.internal:6380/2" },
  });
  const options = redisOptions(config.redis, { name: "t", logger: silentLogger });
  assert.equal(options.host, "redis.internal");
  assert.equal(options.port, 6380);
  assert.equal(options.username, "ingest");
  assert.equal(options.password, "s@cret");
  assert.equal(options.db, 2);
  assert.deepEqual(options.tls, { servername: "redis.internal" });
});

Deno.test("redisTarget() never shows the password", () => {
  const config = loadConfig({ env: { REDIS_URL: "redis://u:topsecret@h:1" } });
  assert.equal(redisTarget(config.redis), "redis://h:1");
});

Deno.test("redisOptions() sends no SNI for an IP address, and passes the CA of REDIS_TLS_CA", () => {
  for (
    const [url, servername] of [
      ["rediss://127.0.0.1:6380", undefined],
      ["rediss://[::1]:6380", undefined],
      ["rediss://redis.internal:6380", "redis.internal"],
    ] as const
  ) {
    const config = loadConfig({ env: { REDIS_URL: url } });
    const options = redisOptions(config.redis, { name: "t", logger: silentLogger, tlsCa: "PEM" });
    assert.deepEqual(options.tls, servername ? { servername, ca: "PEM" } : { ca: "PEM" }, url);
  }
  const plain = loadConfig({ env: { REDIS_URL: "redis://127.0.0.1:6379/3" } });
  assert.equal(redisOptions(plain.redis, { name: "t", logger: silentLogger }).tls, undefined);
});
