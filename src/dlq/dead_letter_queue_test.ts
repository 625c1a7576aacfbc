import assert from "node:assert/strict";
import { startRedis } from "../../tests/harness/redis_server.ts";
import { client, freshStream } from "../../tests/worker_fixtures.ts";
import { deadLetterFields } from "./dead_letter.ts";
import { replayDeadLetters } from "./dead_letter_queue.ts";

const info = {
  sourceStream: "s",
  sourceId: "1-0",
  group: "g",
  consumer: "c",
  reason: "malformed" as const,
  error: "bad",
  attempts: 1,
  firstFailure: "2026-01-02T03:04:05.000Z",
  lastFailure: "2026-01-02T03:04:05.000Z",
};

Deno.test("replayDeadLetters() writes back exactly the original fields, once per id", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const stream = freshStream("replay");
    const streams = { stream, dlqStream: `${stream}:dlq` };
    const original = ["source_id", "looks like metadata", "original_fields", "7", "x", ""];
    const dlqId = await redis.xadd(streams.dlqStream, "*", ...deadLetterFields(original, info));
    const result = await replayDeadLetters(redis, streams, [dlqId!, "1-1", dlqId!]);
    assert.equal(result.replayed.length, 1);
    assert.equal(result.replayed[0]!.dlqId, dlqId);
    assert.deepEqual(result.missing, ["1-1", dlqId], "a repeated id is moved once");
    const [entry] = await redis.xrange(stream, "-", "+");
    assert.equal(entry![0], result.replayed[0]!.newId);
    assert.deepEqual(entry![1], original);
    assert.equal(await redis.xlen(streams.dlqStream), 0);
  } finally {
    redis.disconnect();
  }
});
