import assert from "node:assert/strict";
import { PermanentError } from "../errors.ts";
import { silentLogger } from "../log/logger.ts";
import type { Delivery, Sink } from "../sinks/sink.ts";
import { startRedis } from "../../tests/harness/redis_server.ts";
import { addEmails, client, freshStream, workerConfig } from "../../tests/worker_fixtures.ts";
import { parseDeadLetter } from "../dlq/dead_letter.ts";
import { decodeAttempts } from "./attempts.ts";
import { ConsumerGroup } from "./consumer_group.ts";
import { EntryHandler } from "./entry_handler.ts";
import { groupKeys } from "./group_keys.ts";
import { Settlements } from "./settlements.ts";
import type { WorkerCounts } from "./worker_types.ts";

/** A sink that answers each delivery with `answer` and records what it saw. */
function recordingSink(answer: (d: Delivery) => Promise<void>) {
  const seen: Delivery[] = [];
  const sink: Sink = {
    kind: "test",
    handle: (d) => (seen.push(d), answer(d)),
    close: () => Promise.resolve(),
  };
  return { sink, seen };
}

Deno.test("EntryHandler: success, duplicate, retry and permanent failure, each settled once", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const stream = freshStream("handler");
    const config = workerConfig(server.url, stream, { WORKER_MAX_ATTEMPTS: "3" });
    const keys = groupKeys(stream, "g", config.redis.dlqStreamName);
    const group = new ConsumerGroup({ redis, keys, consumer: "me" });
    await group.ensure();
    await addEmails(redis, stream, [1, 1, 2, 3]); // the second is a copy of the first
    const [first, copy, failing, rejected] = await group.readNew(10);
    const { sink, seen } = recordingSink((d) => {
      const { uid } = d.payload as { uid: number };
      if (uid === 2) return Promise.reject(new Error("downstream unavailable"));
      if (uid === 3) return Promise.reject(new PermanentError("no"));
      return Promise.resolve();
    });
    const counts: WorkerCounts = {
      processed: 0,
      duplicates: 0,
      retriesScheduled: 0,
      deadLettered: 0,
      reclaimed: 0,
    };
    const retries: number[] = [];
    const handler = new EntryHandler({
      group,
      sink,
      settlements: new Settlements({ signal: new AbortController().signal }),
      config,
      counts,
      observer: {},
      logger: silentLogger,
      signal: new AbortController().signal,
      onRetryScheduled: (at) => retries.push(at),
      now: Date.now,
      random: () => 0.5,
    });
    await handler.handle(first!);
    await handler.handle(copy!);
    await handler.handle(failing!);
    await handler.handle(rejected!);
    assert.deepEqual(counts, {
      processed: 1,
      duplicates: 1,
      retriesScheduled: 1,
      deadLettered: 1,
      reclaimed: 0,
    });
    assert.equal(seen.length, 3, "the copy never reached the sink");
    assert.deepEqual(seen.map((d) => d.attempt), [1, 1, 1]);
    assert.equal(retries.length, 1);
    const record = decodeAttempts(await redis.hget(keys.attempts, failing!.id));
    assert.equal(record?.attempts, 1);
    assert.equal(record?.lastError, "downstream unavailable");
    const [dead] = await redis.xrange(keys.dlqStream, "-", "+");
    const letter = parseDeadLetter(dead![0], dead![1]);
    assert.equal(letter.reason, "permanent");
    assert.equal(letter.sourceId, rejected!.id);

    // The retry comes back through the claim with its record: attempt 2, truthfully.
    const [again] = await group.takeDueRetries(Date.now() + 60_000, 1);
    await handler.handle(again!);
    assert.equal(seen.at(-1)!.attempt, 2);
    assert.equal(decodeAttempts(await redis.hget(keys.attempts, failing!.id))?.attempts, 2);
  } finally {
    redis.disconnect();
  }
});

Deno.test("EntryHandler dead-letters a malformed entry and a poison one without calling the sink", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const stream = freshStream("handler-bad");
    const config = workerConfig(server.url, stream, { WORKER_MAX_ATTEMPTS: "2" });
    const keys = groupKeys(stream, "g", config.redis.dlqStreamName);
    const group = new ConsumerGroup({ redis, keys, consumer: "me" });
    await group.ensure();
    await redis.xadd(stream, "*", "junk", "x");
    await addEmails(redis, stream, [7]);
    const [malformed, poison] = await group.readNew(10);
    const { sink, seen } = recordingSink(() => Promise.resolve());
    const counts: WorkerCounts = {
      processed: 0,
      duplicates: 0,
      retriesScheduled: 0,
      deadLettered: 0,
      reclaimed: 0,
    };
    const handler = new EntryHandler({
      group,
      sink,
      settlements: new Settlements({ signal: new AbortController().signal }),
      config,
      counts,
      observer: {},
      logger: silentLogger,
      signal: new AbortController().signal,
      onRetryScheduled: () => {},
      now: Date.now,
    });
    await handler.handle(malformed!);
    await handler.handle({ ...poison!, deliveries: 3 });
    assert.equal(seen.length, 0);
    assert.equal(counts.deadLettered, 2);
    const letters = (await redis.xrange(keys.dlqStream, "-", "+")).map(([id, f]) =>
      parseDeadLetter(id, f)
    );
    assert.deepEqual(letters.map((l) => [l.reason, l.attempts]), [["malformed", 1], ["poison", 3]]);
    assert.deepEqual(letters[0]!.originalFields, ["junk", "x"]);
  } finally {
    redis.disconnect();
  }
});
