import assert from "node:assert/strict";
import { loadConfig } from "../config/config.ts";
import { redisCliCommand } from "./redis_cli.ts";

Deno.test("redisCliCommand() reaches the configured Redis and never prints a password", () => {
  const cli = (env: Record<string, string>) => redisCliCommand(loadConfig({ env }).redis);
  assert.equal(cli({}), "redis-cli -h localhost -p 6379");
  assert.equal(
    cli({ REDIS_HOST: "cache.internal", REDIS_PORT: "6380" }),
    "redis-cli -h cache.internal -p 6380",
  );
  assert.equal(
    cli({ REDIS_HOST: "10.0.0.5", REDIS_PASSWORD: "s3cret" }),
    'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 10.0.0.5 -p 6379',
  );
  assert.equal(
    cli({ REDIS_URL: "redis://app:s3cret@10.0.0.5:7000/1" }),
    'redis-cli -u "$REDIS_URL"',
  );
  assert.equal(
    cli({ REDIS_URL: "redis://10.0.0.5:7000", REDIS_PASSWORD: "s3cret" }),
    'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -u "$REDIS_URL"',
  );
  assert.equal(
    cli({ REDIS_URL: "rediss://app:s3cret@redis.example:6380", REDIS_TLS_CA: "/etc/ca.pem" }),
    'redis-cli --tls --cacert "$REDIS_TLS_CA" -u "$REDIS_URL"',
  );
});

Deno.test("redisCliCommand() reads REDIS_URL_FILE's file instead of naming a variable the shell lacks", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, "redis://app:s3cret@127.0.0.1:7000\n");
    await Deno.chmod(path, 0o600);
    const command = redisCliCommand(loadConfig({ env: { REDIS_URL_FILE: path } }).redis);
    assert.equal(command, `redis-cli -u "$(cat ${path})"`);
    assert.ok(!command.includes("s3cret"));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("redisCliCommand() on a cluster: -c and the first seed node, credentials as for one server", () => {
  const cluster = (env: Record<string, string>) =>
    redisCliCommand(
      loadConfig({
        env: { REDIS_CLUSTER_NODES: "10.0.0.1:7000,10.0.0.2:7000", STREAM_PARTITIONS: "6", ...env },
      })
        .redis,
    );
  assert.equal(cluster({}), "redis-cli -c -h 10.0.0.1 -p 7000");
  assert.equal(
    cluster({ REDIS_URL: "rediss://u:pw@redis.internal" }),
    'redis-cli --tls -u "$REDIS_URL" -c -h 10.0.0.1 -p 7000',
  );
  assert.equal(
    cluster({ REDIS_PASSWORD: "pw" }),
    'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -c -h 10.0.0.1 -p 7000',
  );
});
