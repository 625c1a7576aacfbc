import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Redis } from "ioredis";
import { PermanentError } from "../errors.ts";
import { silentLogger } from "../log/logger.ts";
import type { Delivery, Sink } from "../sinks/sink.ts";
import { startRedis } from "../../tests/harness/redis_server.ts";
import {
  addEmails,
  client,
  emailPayload,
  freshStream,
  range,
  workerConfig,
} from "../../tests/worker_fixtures.ts";
import { parseDeadLetter } from "../dlq/dead_letter.ts";
import { decodeAttempts } from "./attempts.ts";
import { emptyCounts } from "./worker_types.ts";
import { type ClaimedEntry, ConsumerGroup } from "./consumer_group.ts";
import { EntryHandler } from "./entry_handler.ts";
import { groupKeys } from "./group_keys.ts";
import { Settlements } from "./settlements.ts";
import type { Config } from "../config/config.ts";
import type { WorkerObserver } from "../observe/events.ts";

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

/** The dead letters of `group`'s DLQ, in order. */
async function deadLetters(redis: Redis, group: ConsumerGroup) {
  const entries = await redis.xrange(group.keys.dlqStream, "-", "+");
  return entries.map(([id, fields]) => parseDeadLetter(id, fields));
}

/** Adds an email entry with the given idempotency key and payload as they are (checked or not). */
function addEmailEntry(redis: Redis, stream: string, key: string, payload: string | Buffer) {
  return redis.xadd(stream, "*", "type", "email", "idempotency_key", key, "payload", payload);
}

/** A fresh stream, its worker configuration and consumer group "g" as consumer "me". */
async function groupOn(redis: Redis, url: string, label: string, maxAttempts = 3) {
  const stream = freshStream(label);
  const config = workerConfig(url, stream, { WORKER_MAX_ATTEMPTS: String(maxAttempts) });
  const keys = groupKeys(stream, "g", config.redis.dlqStreamName);
  const group = new ConsumerGroup({ redis, keys, consumer: "me" });
  await group.ensure();
  return { stream, config, group };
}

/** An EntryHandler over `group` and `sink`, with its counts and the retries it scheduled. */
function handlerFor(
  group: ConsumerGroup,
  sink: Sink,
  config: Config,
  observer: WorkerObserver = {},
  sinkCalls?: number,
) {
  const counts = emptyCounts();
  const retries: number[] = [];
  const handler = new EntryHandler({
    group,
    sink,
    settlements: new Settlements({ signal: new AbortController().signal }),
    config,
    counts,
    observer,
    logger: silentLogger,
    signal: new AbortController().signal,
    onRetryScheduled: (at) => retries.push(at),
    now: Date.now,
    random: () => 0.5,
    sinkCalls,
  });
  return { handler, counts, retries };
}

Deno.test("EntryHandler: success, duplicate, retry and permanent failure, each settled once", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const { stream, config, group } = await groupOn(redis, server.url, "handler");
    const { keys } = group;
    await addEmails(redis, stream, [1, 1, 2, 3]); // the second is a copy of the first
    const [first, copy, failing, rejected] = await group.readNew(10);
    const { sink, seen } = recordingSink((d) => {
      const { uid } = d.payload as { uid: number };
      if (uid === 2) return Promise.reject(new Error("downstream unavailable"));
      if (uid === 3) return Promise.reject(new PermanentError("no"));
      return Promise.resolve();
    });
    const { handler, counts, retries } = handlerFor(group, sink, config);
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
    const { stream, config, group } = await groupOn(redis, server.url, "handler-bad", 2);
    await redis.xadd(stream, "*", "junk", "x");
    await addEmails(redis, stream, [7]);
    const [malformed, poison] = await group.readNew(10);
    const { sink, seen } = recordingSink(() => Promise.resolve());
    const { handler, counts } = handlerFor(group, sink, config);
    await handler.handle(malformed!);
    await handler.handle({ ...poison!, deliveries: 3 });
    assert.equal(seen.length, 0);
    assert.equal(counts.deadLettered, 2);
    const letters = await deadLetters(redis, group);
    assert.deepEqual(letters.map((l) => [l.reason, l.attempts]), [["malformed", 1], ["poison", 3]]);
    assert.deepEqual(letters[0]!.originalFields, ["junk", "x"]);
  } finally {
    redis.disconnect();
  }
});

/** Runs `entries` through `handler.handleMany`; resolves with the ids done and failed. */
function handleAll(handler: EntryHandler, entries: readonly ClaimedEntry[]) {
  const done: string[] = [];
  const failed: string[] = [];
  return new Promise<{ done: string[]; failed: string[] }>((resolve) => {
    const left = () => done.length + failed.length === entries.length && resolve({ done, failed });
    handler.handleMany(entries, {
      done: (id) => (done.push(id), left()),
      failed: (id) => (failed.push(id), left()),
    });
  });
}

Deno.test("EntryHandler.handleMany(): one check for a read batch, one acknowledgement for the sink calls that end together, each entry its own outcome", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const { stream, config, group } = await groupOn(redis, server.url, "handler-batch");
    const calls = { checked: [] as number[], acknowledged: [] as number[] };
    const check = group.processedAmong.bind(group);
    group.processedAmong = (keys, now) => (calls.checked.push(keys.length), check(keys, now));
    const acknowledge = group.acknowledgeProcessedMany.bind(group);
    group.acknowledgeProcessedMany = (
      acks,
    ) => (calls.acknowledged.push(acks.length), acknowledge(acks));
    const { sink, seen } = recordingSink((d) =>
      (d.payload as { uid: number }).uid === 20
        ? Promise.reject(new Error("downstream unavailable"))
        : Promise.resolve()
    );
    const { handler, counts } = handlerFor(group, sink, config);
    await addEmails(redis, stream, [1]);
    await handler.handle((await group.readNew(1))[0]!);

    await addEmails(redis, stream, range(20)); // uid 1 again: a copy of the one processed
    await redis.xadd(stream, "*", "junk", "x");
    const batch = await group.readNew(100);
    const outcome = await handleAll(handler, batch);

    assert.deepEqual(outcome.done.sort(), batch.map((e) => e.id).sort(), "each entry once");
    assert.deepEqual(outcome.failed, []);
    assert.deepEqual(calls.checked, [1, 20], "one processed-record check for the batch");
    assert.deepEqual(calls.acknowledged, [1, 18], "one script for the 18 that succeeded");
    assert.deepEqual(
      seen.map((d) => (d.payload as { uid: number }).uid),
      range(20),
      "the sink sees the batch in stream order, without the copy",
    );
    assert.deepEqual(counts, {
      processed: 19,
      duplicates: 1,
      retriesScheduled: 1,
      deadLettered: 1,
      reclaimed: 0,
    });
    assert.equal(await group.settled(), false, "the failed one waits for its retry");
    assert.equal(await redis.zcard(group.keys.retrySchedule), 1);
  } finally {
    redis.disconnect();
  }
});

Deno.test("EntryHandler dead-letters a payload that is not JSON or has the wrong schema when its entry reaches the sink, and gives the place back", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const { stream, config, group } = await groupOn(redis, server.url, "handler-bad-payload");
    const email = (key: string, payload: string) => addEmailEntry(redis, stream, key, payload);
    await addEmails(redis, stream, [1]);
    await email("k-not-json", "{not json");
    await email("k-schema", JSON.stringify({ schema_version: 1 }));
    await addEmails(redis, stream, [2, 3]);
    const { sink, seen } = recordingSink(() => Promise.resolve());
    // One sink place: the entries after the bad ones get it only if each bad one gives it back.
    const { handler, counts } = handlerFor(group, sink, config, {}, 1);
    const batch = await group.readNew(10);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<"stuck">((resolve) => timer = setTimeout(resolve, 5_000, "stuck"));
    const outcome = await Promise.race([handleAll(handler, batch), stuck]);
    clearTimeout(timer);
    assert.notEqual(outcome, "stuck", "an entry waits for a sink place no one gives back");
    if (outcome === "stuck") return;
    assert.deepEqual(outcome.done.sort(), batch.map((e) => e.id).sort(), "each entry once");
    assert.deepEqual(seen.map((d) => (d.payload as { uid: number }).uid), [1, 2, 3]);
    const letters = await deadLetters(redis, group);
    assert.deepEqual(letters.map((l) => l.reason), ["malformed", "malformed"]);
    assert.match(letters[0]!.error, /not valid JSON/);
    assert.match(letters[1]!.error, /wrong schema/);
    assert.equal(counts.deadLettered, 2);
    assert.equal(counts.processed, 3);
    assert.equal(await group.settled(), true);
  } finally {
    redis.disconnect();
  }
});

Deno.test("EntryHandler hands the sink a payload's bytes as read only when its text is exactly their decoding", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const { stream, config, group } = await groupOn(redis, server.url, "handler-payload-bytes");
    const json = JSON.stringify(emailPayload(1, { subject: "Grüße MARK" }));
    // The same payload with an invalid byte in its subject: still JSON once decoded (as U+FFFD).
    const [before, after] = json.split("MARK");
    const invalid = Buffer.concat([Buffer.from(before!), Buffer.from([0xff]), Buffer.from(after!)]);
    await addEmailEntry(redis, stream, "k-valid", json);
    await addEmailEntry(redis, stream, "k-invalid", invalid);
    const { sink, seen } = recordingSink(() => Promise.resolve());
    const { handler } = handlerFor(group, sink, config);
    await handleAll(handler, await group.readNew(10));
    assert.deepEqual(seen.map((d) => d.idempotencyKey), ["k-valid", "k-invalid"]);
    assert.equal(new TextDecoder().decode(seen[0]!.payloadBytes), json);
    assert.equal(seen[0]!.payloadJson, json);
    assert.equal(seen[1]!.payloadBytes, undefined);
    assert.equal(seen[1]!.payloadJson, new TextDecoder().decode(invalid));
    assert.equal((seen[1]!.payload as { subject: string }).subject, "Grüße \uFFFD");
  } finally {
    redis.disconnect();
  }
});

Deno.test("EntryHandler.handleMany(): an observer that throws fails its entries, and no entry is left in hand", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    const { stream, config, group } = await groupOn(redis, server.url, "handler-observer");
    const { sink } = recordingSink(() => Promise.resolve());
    const throwing: WorkerObserver = {
      handled: () => {
        throw new Error("metrics broke");
      },
    };
    const { handler, counts } = handlerFor(group, sink, config, throwing);
    await addEmails(redis, stream, range(5));
    const batch = await group.readNew(10);
    const outcome = await handleAll(handler, batch);
    assert.deepEqual(outcome.failed.sort(), batch.map((e) => e.id).sort(), "each entry heard of");
    assert.equal(counts.processed, 5);
    assert.equal(await group.settled(), true, "the acknowledgements went through");
  } finally {
    redis.disconnect();
  }
});
