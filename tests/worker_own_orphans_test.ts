/**
 * A consumer's own pending entries that nothing holds — left by an earlier
 * process of the same name, or delivered by a read whose reply was lost with
 * the connection — are claimed back at once, not after the visibility timeout.
 */

import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { startRedis } from "./harness/redis_server.ts";
import { addEmails, client, freshStream, readJsonLines, workerEnv } from "./worker_fixtures.ts";

Deno.test("a worker claims back at once what an earlier process of its name left pending", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  const dir = await Deno.makeTempDir({ prefix: "ingest-own-orphans-" });
  try {
    const stream = freshStream("own-orphans");
    await redis.xgroup("CREATE", stream, "email_workers", "0", "MKSTREAM");
    await addEmails(redis, stream, [1, 2, 3, 4, 5, 6]);
    // The earlier "w1" read four entries and died before handling them.
    await redis.xreadgroup("GROUP", "email_workers", "w1", "COUNT", 4, "STREAMS", stream, ">");
    const sink = `${dir}/out.jsonl`;
    // A visibility timeout of 10 minutes: waiting it out would outlast the 30 s cut-off.
    const run = await runIngest(["work", "--drain", "--consumer", "w1", "--sink", `file:${sink}`], {
      env: workerEnv(server.url, stream, { WORKER_VISIBILITY_TIMEOUT_SECONDS: "600" }),
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(run.code, 0, run.stderr);
    const uids = (await readJsonLines(sink)).map((line) => (line.payload as { uid: number }).uid);
    assert.deepEqual(uids.sort(), [1, 2, 3, 4, 5, 6]);
    assert.equal(Number((await redis.xpending(stream, "email_workers") as [number])[0]), 0);
  } finally {
    redis.disconnect();
    await Deno.remove(dir, { recursive: true });
  }
});
