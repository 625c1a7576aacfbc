import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { fillRedis } from "../../tests/harness/redis_fill.ts";
import { startRedis } from "../../tests/harness/redis_server.ts";
import { readGroupInfo } from "./group_info.ts";
import { ensureGroup } from "./group.ts";

async function connect(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return redis;
}

Deno.test("ensureGroup() creates a missing group and its stream, and leaves an existing one alone", async () => {
  await using server = await startRedis();
  const redis = await connect(server.url);
  try {
    await ensureGroup(redis, "s", "g");
    assert.deepEqual((await readGroupInfo(redis, "s")).map((g) => g.name), ["g"]);
    await redis.xadd("s", "*", "k", "v");
    await redis.xreadgroup("GROUP", "g", "c", "COUNT", 1, "STREAMS", "s", ">");
    await ensureGroup(redis, "s", "g");
    const [group] = await readGroupInfo(redis, "s");
    assert.equal(group?.pending, 1, "the existing group kept its pending entry");
    await ensureGroup(redis, "s", "other");
    assert.deepEqual((await readGroupInfo(redis, "s")).map((g) => g.name).sort(), ["g", "other"]);
  } finally {
    redis.disconnect();
  }
});

Deno.test("ensureGroup() succeeds on a full Redis when the group exists, and names the OOM when it is missing", async () => {
  await using server = await startRedis({ args: ["--maxmemory-policy", "noeviction"] });
  const redis = await connect(server.url);
  try {
    await ensureGroup(redis, "s", "g");
    const filled = await fillRedis(redis);
    await assert.rejects(
      redis.xgroup("CREATE", "s", "g", "0", "MKSTREAM"),
      /^ReplyError: OOM/,
      "a full Redis refuses XGROUP CREATE ... MKSTREAM even for an existing group",
    );
    await ensureGroup(redis, "s", "g");
    await assert.rejects(ensureGroup(redis, "s", "missing"), /OOM command not allowed/);
    await filled.free();
    await redis.config("SET", "maxmemory", "0");
    await ensureGroup(redis, "s", "missing");
    assert.equal((await readGroupInfo(redis, "s")).length, 2);
  } finally {
    redis.disconnect();
  }
});
