import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { parseDeadLetter } from "../dlq/dead_letter.ts";
import { fieldText } from "../redis/reply.ts";
import { startRedis } from "../../tests/harness/redis_server.ts";
import { addEmails, client, freshStream } from "../../tests/worker_fixtures.ts";
import { nextAttempt } from "./attempts.ts";
import { ConsumerGroup } from "./consumer_group.ts";
import { groupKeys } from "./group_keys.ts";

Deno.test("ConsumerGroup reads, retries with the attempts record in the claim, acknowledges and dead-letters", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const stream = freshStream("group");
    const keys = groupKeys(stream, "g", `${stream}:dlq`);
    const group = new ConsumerGroup({ redis, keys, consumer: "me" });
    assert.equal(await group.exists(), false, "no stream yet");
    await group.ensure();
    await group.ensure(); // an existing group is left alone
    assert.equal(await group.exists(), true);
    const [first, second] = await addEmails(redis, stream, [1, 2]);

    const read = await group.readNew(10);
    assert.deepEqual(read.map((e) => [e.id, e.deliveries, e.attempts]), [
      [first, 1, undefined],
      [second, 1, undefined],
    ]);
    assert.equal(await group.settled(), false);

    // A failure is recorded with the retry; the claim hands it back, read once there.
    const record = nextAttempt(undefined, new Date(), "downstream unavailable", 1);
    assert.equal(await group.scheduleRetry(first!, Date.now() - 1, record), true);
    assert.equal(await group.nextRetryDue() !== undefined, true);
    const due = await group.takeDueRetries(Date.now(), 10);
    assert.equal(due.length, 1);
    assert.equal(due[0]!.id, first);
    assert.equal(due[0]!.deliveries, 2, "the claim counts the delivery");
    assert.deepEqual(due[0]!.attempts, record);
    assert.equal(await group.nextRetryDue(), undefined);

    const now = Date.now();
    assert.deepEqual(await group.processedAmong(["k1"], now), [false]);
    const acked = await group.acknowledgeProcessedMany([
      { id: first!, idempotencyKey: "k1", expiresAtMs: now + 60_000 },
    ]);
    assert.equal(acked, 1);
    assert.deepEqual(await group.processedAmong(["k1"], now), [true]);
    assert.equal(await group.acknowledgeDuplicate(first!), false, "already settled");

    const at = new Date().toISOString();
    const info = {
      sourceStream: stream,
      sourceId: second!,
      group: "g",
      consumer: "me",
      reason: "permanent" as const,
      error: "rejected",
      attempts: 1,
      firstFailure: at,
      lastFailure: at,
    };
    const dlqId = await group.deadLetter(second!, read[1]!.fields, info);
    assert.equal(typeof dlqId, "string");
    assert.equal(await group.deadLetter(second!, read[1]!.fields, info), undefined, "once only");
    const [dead] = await redis.xrange(keys.dlqStream, "-", "+");
    assert.deepEqual(
      parseDeadLetter(dead![0], dead![1]).originalFields,
      read[1]!.fields.map(fieldText),
    );
    assert.equal(await group.settled(), true);
    assert.equal(await group.leave(), true, "nothing pending: the consumer leaves");
  } finally {
    redis.disconnect();
  }
});

Deno.test("ConsumerGroup.reclaimStalled() continues its scan where the last pass stopped", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const stream = freshStream("group-scan");
    const keys = groupKeys(stream, "g", `${stream}:dlq`);
    const crashed = new ConsumerGroup({ redis, keys, consumer: "crashed" });
    const me = new ConsumerGroup({ redis, keys, consumer: "me" });
    await me.ensure();
    const ids = await addEmails(redis, stream, [1, 2, 3]);
    await crashed.readNew(3);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const firstPass = await me.reclaimStalled(10, 2, []);
    assert.deepEqual(firstPass.map((e) => e.id), ids.slice(0, 2));
    const secondPass = await me.reclaimStalled(10, 2, []);
    assert.deepEqual(secondPass.map((e) => e.id), ids.slice(2));
    assert.equal(await me.extendLeases(ids), 3, "all three are now this consumer's");
    assert.deepEqual(await me.pruneIdleConsumers(0), ["crashed"]);
  } finally {
    redis.disconnect();
  }
});

Deno.test("ConsumerGroup acknowledges and checks many entries in one call, each with its own answer", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const stream = freshStream("group-batch");
    const keys = groupKeys(stream, "g", `${stream}:dlq`);
    const group = new ConsumerGroup({ redis, keys, consumer: "me" });
    await group.ensure();
    const [a, b, c, d] = await addEmails(redis, stream, [1, 2, 3, 4]);
    await group.readNew(4);
    // a failed once: its attempts and retry records must go with the batched acknowledgement.
    const failure = nextAttempt(undefined, new Date(), "downstream unavailable", 1);
    assert.equal(await group.scheduleRetry(a!, Date.now() + 60_000, failure), true);
    await redis.xack(stream, "g", b!); // settled elsewhere meanwhile
    const now = Date.now();
    // Each entry has its own expiry; d repeats a's idempotency key with an earlier one.
    const acked = await group.acknowledgeProcessedMany([
      { id: a!, idempotencyKey: "ka", expiresAtMs: now + 60_000 },
      { id: b!, idempotencyKey: "kb", expiresAtMs: now + 1_000 },
      { id: c!, idempotencyKey: 'k c "é"', expiresAtMs: now + 120_000 },
      { id: d!, idempotencyKey: "ka", expiresAtMs: now + 30_000 },
    ]);
    assert.equal(acked, 3, "b was no longer pending");
    assert.deepEqual(await group.processedAmong(["ka", "kb", 'k c "é"', "kd"], now), [
      true,
      true,
      true,
      false,
    ]);
    assert.deepEqual(
      await group.processedAmong(["ka", "kb", 'k c "é"'], now + 1_000),
      [true, false, true],
      "a record is absent from the millisecond it expires",
    );
    assert.equal(Number(await redis.zscore(keys.processed, "ka")), now + 60_000, "never shortened");
    assert.equal(Number(await redis.zscore(keys.processed, 'k c "é"')), now + 120_000);
    assert.equal(await group.pruneExpiredRecords(now + 1_000), 1, "kb is removed once expired");
    assert.deepEqual(await redis.zrange(keys.processed, 0, -1), ["ka", 'k c "é"']);
    assert.equal(await redis.hlen(keys.attempts), 0, "attempts records cleared");
    assert.equal(await redis.zcard(keys.retrySchedule), 0, "retry schedule cleared");
    assert.equal(await group.settled(), true);
  } finally {
    redis.disconnect();
  }
});

Deno.test("ConsumerGroup.reclaimOwnOrphans() takes back at once only its own entries nothing holds", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const stream = freshStream("orphans");
    const keys = groupKeys(stream, "g", `${stream}:dlq`);
    const me = new ConsumerGroup({ redis, keys, consumer: "me" });
    const other = new ConsumerGroup({ redis, keys, consumer: "other" });
    await me.ensure();
    const ids = await addEmails(redis, stream, [1, 2, 3, 4, 5]);
    // Reads whose replies were "lost": the entries are pending on their consumer.
    const mine = await me.readNew(4);
    await other.readNew(1);
    const [held, retrying, lostA, lostB] = mine.map((e) => e.id);
    const record = nextAttempt(undefined, new Date(), "downstream unavailable", 1);
    await me.scheduleRetry(retrying!, Date.now() + 60_000, record);

    const first = await me.reclaimOwnOrphans(1, [held!]);
    assert.deepEqual(first.map((e) => e.id), [lostA], "at most count, oldest first");
    assert.equal(first[0]!.deliveries, 2, "the claim counts the delivery");
    const rest = await me.reclaimOwnOrphans(10, [held!, lostA!]);
    assert.deepEqual(rest.map((e) => e.id), [lostB]);
    assert.deepEqual(await me.reclaimOwnOrphans(10, [held!, lostA!, lostB!]), []);
    // The other consumer's entry (ids[4]) is still its own.
    const pending = await redis.xpending(stream, "g", "-", "+", 10) as [string, string][];
    assert.deepEqual(pending.find(([id]) => id === ids[4])?.[1], "other");
  } finally {
    redis.disconnect();
  }
});

Deno.test("ConsumerGroup.readNew() hands over the payload's bytes and every other field's text, invalid UTF-8 as U+FFFD", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const stream = freshStream("text");
    const group = new ConsumerGroup({
      redis,
      keys: groupKeys(stream, "g", `${stream}:dlq`),
      consumer: "me",
    });
    await group.ensure();
    const text = JSON.stringify({ subject: "Grüße, 日本語 and 🙂", body: "é".repeat(5000) });
    const id = await redis.xadd(stream, "*", "type", "email", "payload", text);
    const broken = await redis.xadd(stream, "*", "type", Buffer.from([0x65, 0xff, 0x6d]));
    const [first, second] = await group.readNew(10);
    assert.equal(first?.id, id);
    assert.equal(first?.deliveries, 1);
    assert.equal(first?.attempts, undefined);
    const [typeName, type, payloadName, payload] = first?.fields ?? [];
    assert.deepEqual([typeName, type, payloadName], ["type", "email", "payload"]);
    assert.ok(Buffer.isBuffer(payload), "the payload stays bytes");
    assert.equal(fieldText(payload), text);
    assert.deepEqual(second?.fields, ["type", "e\uFFFDm"]);
    assert.equal(second?.id, broken);
  } finally {
    redis.disconnect();
  }
});
