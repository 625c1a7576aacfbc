import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis } from "../../tests/harness/redis_server.ts";
import { parseGroupInfo, readGroupInfo } from "./group_info.ts";

Deno.test("parseGroupInfo() reads the XINFO GROUPS pairs, lag null when Redis cannot tell", () => {
  const info = parseGroupInfo([
    "name",
    "g",
    "consumers",
    2,
    "pending",
    3,
    "last-delivered-id",
    "5-0",
    "entries-read",
    null,
    "lag",
    null,
  ]);
  assert.deepEqual(info, {
    name: "g",
    consumers: 2,
    pending: 3,
    lag: null,
    lastDeliveredId: "5-0",
  });
});

Deno.test("readGroupInfo() reports each group of a real stream, and none for a missing stream", async () => {
  await using server = await startRedis();
  const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    assert.deepEqual(await readGroupInfo(redis, "missing"), []);
    await redis.xgroup("CREATE", "s", "a", "0", "MKSTREAM");
    await redis.xadd("s", "*", "k", "1");
    await redis.xadd("s", "*", "k", "2");
    await redis.xgroup("CREATE", "s", "b", "$");
    await redis.xreadgroup("GROUP", "a", "c1", "COUNT", 1, "STREAMS", "s", ">");
    const groups = await readGroupInfo(redis, "s");
    assert.deepEqual(groups.map((g) => [g.name, g.consumers, g.pending, g.lag]), [
      ["a", 1, 1, 1],
      ["b", 0, 0, 0],
    ]);
    assert.match(groups[0]!.lastDeliveredId, /^\d+-\d+$/);
  } finally {
    redis.disconnect();
  }
});
