import assert from "node:assert/strict";
import { reclaimStalled } from "../src/worker/claim.ts";
import { groupKeys } from "../src/worker/group_keys.ts";
import { startRedis } from "./harness/redis_server.ts";
import { addEmails, client, freshStream } from "./worker_fixtures.ts";

Deno.test("reclaimStalled() never takes back a consumer's own live entries, but does take its idle ones", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const stream = freshStream("claim");
    const keys = groupKeys(stream, "g", `${stream}:dlq`);
    await redis.xgroup("CREATE", stream, "g", "0", "MKSTREAM");
    const [live, idle] = await addEmails(redis, stream, [1, 2]);
    await redis.xreadgroup("GROUP", "g", "me", "COUNT", 2, "STREAMS", stream, ">");
    await new Promise((resolve) => setTimeout(resolve, 30));
    const pass = await reclaimStalled(redis, keys, "me", 10, 10, "-", [live!]);
    assert.deepEqual(pass.claimed.map((e) => e.id), [idle]);
    assert.equal(pass.claimed[0]!.deliveries, 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const other = await reclaimStalled(redis, keys, "other", 10, 10, "-", [live!]);
    assert.deepEqual(
      other.claimed.map((e) => e.id),
      [live, idle],
      "another consumer's live list does not protect entries it does not own",
    );
  } finally {
    redis.disconnect();
  }
});
