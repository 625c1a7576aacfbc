import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { parseDeadLetter } from "../src/dlq/dead_letter.ts";
import { replayDeadLetters } from "../src/dlq/dead_letter_queue.ts";
import { PermanentError } from "../src/errors.ts";
import { silentLogger } from "../src/log/logger.ts";
import type { ProcessOutcome } from "../src/observe/events.ts";
import {
  attemptsKey,
  legacyProcessedKey,
  processedSetKey,
  retryScheduleKey,
} from "../src/redis/keys.ts";
import type { Delivery, Sink } from "../src/sinks/sink.ts";
import { emailEntryFields, type EmailPayload } from "../src/stream/entry.ts";
import { compareStreamIds } from "../src/stream/partition_set.ts";
import { decodeAttempts } from "../src/worker/attempts.ts";
import { runWorker, startWorker, type WorkerOptions } from "../src/worker/worker.ts";
import { startRedis, type TestRedis } from "./harness/redis_server.ts";
import {
  addEmails,
  client,
  emailPayload,
  freshStream,
  range,
  waitUntil,
  workerConfig,
} from "./worker_fixtures.ts";

const GROUP = "email_workers";

/** The IMAP uid of an email delivery. */
function uidOf(delivery: Delivery): number {
  return (delivery.payload as EmailPayload).uid;
}

/** A sink that records calls and behaves as `behave` says. */
function recordingSink(
  behave: (delivery: Delivery) => void | Promise<void> = () => {},
): Sink & { calls: Delivery[] } {
  const calls: Delivery[] = [];
  return {
    kind: "test",
    calls,
    async handle(delivery) {
      calls.push(delivery);
      await behave(delivery);
    },
    close: () => Promise.resolve(),
  };
}

type Client = Awaited<ReturnType<typeof client>>;

interface Clients {
  redis: Client;
  blocking: Client;
}

async function clients(server: TestRedis): Promise<Clients & AsyncDisposable> {
  const redis = await client(server.url);
  const blocking = await client(server.url);
  return {
    redis,
    blocking,
    [Symbol.asyncDispose]: () => {
      redis.disconnect();
      blocking.disconnect();
      return Promise.resolve();
    },
  };
}

function options(
  c: Clients,
  stream: string,
  sink: Sink,
  extra: Partial<WorkerOptions> & { env?: Record<string, string> } = {},
): WorkerOptions {
  const { env, ...rest } = extra;
  return {
    redis: c.redis,
    blockingRedis: c.blocking,
    config: workerConfig("redis://127.0.0.1:1", stream, env),
    sink,
    consumer: "worker-a",
    drain: true,
    blockMs: 100,
    logger: silentLogger,
    ...rest,
  };
}

async function pendingCount(c: Clients, stream: string): Promise<number> {
  const summary = await c.redis.xpending(stream, GROUP) as [number];
  return Number(summary[0]);
}

/** The value of the `payload` field among flat fields read as bytes (none: empty). */
function payloadBytes(fields: readonly Buffer[]): Buffer {
  const at = fields.findIndex((field) => field.toString() === "payload");
  return (at < 0 ? undefined : fields[at + 1]) ?? Buffer.alloc(0);
}

async function dlqEntries(c: Clients, stream: string) {
  const raw = await c.redis.xrange(`${stream}:dlq`, "-", "+") as [string, string[]][];
  return raw.map(([id, fields]) => parseDeadLetter(id, fields));
}

Deno.test("the worker against a real Redis", async (t) => {
  await using server = await startRedis();
  await using c = await clients(server);

  await t.step(
    "drain delivers every entry once and acknowledges it with a processed-record",
    async () => {
      const stream = freshStream("drain");
      const ids = await addEmails(c.redis, stream, range(25));
      const sink = recordingSink();
      const outcomes: ProcessOutcome[] = [];
      const summary = await runWorker(
        options(c, stream, sink, {
          concurrency: 4,
          observer: { handled: (outcome) => outcomes.push(outcome) },
        }),
      );
      assert.equal(summary.stoppedBy, "drain");
      assert.equal(summary.processed, 25);
      assert.deepEqual(sink.calls.map((d) => d.id).sort(), [...ids].sort());
      assert.ok(sink.calls.every((d) => d.attempt === 1 && d.type === "email"));
      assert.equal(outcomes.filter((o) => o === "processed").length, 25);
      assert.equal(await pendingCount(c, stream), 0);
      assert.deepEqual(
        await c.redis.xinfo("CONSUMERS", stream, GROUP),
        [],
        "a worker that stops with nothing pending leaves the group",
      );
      const records = processedSetKey(stream, GROUP);
      assert.equal(await c.redis.zcard(records), 25, "one processed-record per entry");
      const expiry = Number(await c.redis.zscore(records, "worker@example.test:INBOX:7:3"));
      const ttl = (expiry - Date.now()) / 1000;
      assert.ok(ttl > 600_000 && ttl <= 604_800, `processed-record TTL is ${ttl} s`);
    },
  );

  await t.step(
    "an entry whose idempotency key was processed is acknowledged without the sink",
    async () => {
      const stream = freshStream("dup");
      await addEmails(c.redis, stream, [1, 2]);
      const first = recordingSink();
      await runWorker(options(c, stream, first));
      // The producer (or a replay) publishes the same messages again.
      const again = await addEmails(c.redis, stream, [1, 2, 3]);
      const second = recordingSink();
      const summary = await runWorker(options(c, stream, second, { consumer: "worker-b" }));
      assert.deepEqual(second.calls.map((d) => d.id), [again[2]]);
      assert.equal(summary.duplicates, 2);
      assert.equal(summary.processed, 1);
      assert.equal(await pendingCount(c, stream), 0);
    },
  );

  await t.step(
    "an entry processed by release 0.1.0 is not handed to the sink after the upgrade",
    async () => {
      const stream = freshStream("legacy");
      // 0.1.0 kept one string key per processed entry; uid 1 was handled before the upgrade.
      const legacy = legacyProcessedKey(stream, GROUP, "worker@example.test:INBOX:7:1");
      await c.redis.set(legacy, '{"entry_id":"1-1","consumer":"old","at":"x"}', "EX", 3_600);
      await addEmails(c.redis, stream, [1, 2]);
      const sink = recordingSink();
      const summary = await runWorker(options(c, stream, sink));
      assert.deepEqual(sink.calls.map(uidOf), [2]);
      assert.equal(summary.duplicates, 1);
      assert.equal(await c.redis.exists(legacy), 0, "the old record was moved");
      const expiry = Number(
        await c.redis.zscore(processedSetKey(stream, GROUP), "worker@example.test:INBOX:7:1"),
      );
      assert.ok(
        expiry > Date.now() + 3_500_000 && expiry <= Date.now() + 3_600_000,
        "with the expiry it had",
      );
    },
  );

  await t.step(
    "a failed entry is retried from a Redis schedule that survives a worker restart",
    async () => {
      const stream = freshStream("backoff");
      const [id] = await addEmails(c.redis, stream, [1]);
      const failing = recordingSink(() => {
        throw new Error("downstream unavailable");
      });
      // Worker A fails once, schedules the retry two seconds out, and stops.
      const controller = new AbortController();
      const a = startWorker(
        options(c, stream, failing, {
          drain: false,
          signal: controller.signal,
          env: { WORKER_BACKOFF_BASE_MS: "2000", WORKER_BACKOFF_CAP_MS: "60000" },
        }),
      );
      await waitUntil(
        "the retry is scheduled",
        async () => (await c.redis.zcard(retryScheduleKey(stream, GROUP))) === 1,
      );
      controller.abort();
      const stoppedA = await a.done;
      assert.equal(stoppedA.retriesScheduled, 1);
      assert.equal(failing.calls.length, 1);

      const record = decodeAttempts(await c.redis.hget(attemptsKey(stream, GROUP), id!));
      assert.equal(record?.attempts, 1);
      assert.equal(record?.lastError, "downstream unavailable");
      const due = Number(await c.redis.zscore(retryScheduleKey(stream, GROUP), id!));
      const delay = due - Date.parse(record!.lastFailure);
      assert.ok(delay >= 1000 && delay <= 2001, `first retry delay ${delay} ms is base × [0.5, 1]`);
      assert.equal(await pendingCount(c, stream), 1, "the entry stays pending while it waits");

      // Worker B (another process in real life) finds it due, runs attempt 2, and acknowledges.
      const working = recordingSink();
      const stoppedB = await runWorker(options(c, stream, working, { consumer: "worker-b" }));
      assert.deepEqual(working.calls.map((d) => [d.id, d.attempt]), [[id, 2]]);
      assert.equal(stoppedB.processed, 1);
      assert.equal(await pendingCount(c, stream), 0);
      assert.equal(await c.redis.hlen(attemptsKey(stream, GROUP)), 0);
      assert.equal(await c.redis.zcard(retryScheduleKey(stream, GROUP)), 0);
    },
  );

  await t.step("after the last attempt the entry moves to the DLQ with its history", async () => {
    const stream = freshStream("maxattempts");
    const [id] = await addEmails(c.redis, stream, [1]);
    const failing = recordingSink(() => {
      throw new Error("still broken");
    });
    const summary = await runWorker(
      options(c, stream, failing, { env: { WORKER_MAX_ATTEMPTS: "3" } }),
    );
    assert.deepEqual(failing.calls.map((d) => d.attempt), [1, 2, 3]);
    assert.equal(summary.retriesScheduled, 2);
    assert.equal(summary.deadLettered, 1);
    const [letter] = await dlqEntries(c, stream);
    assert.equal(letter?.reason, "max_attempts");
    assert.equal(letter?.attempts, 3);
    assert.equal(letter?.error, "still broken");
    assert.equal(letter?.sourceId, id);
    assert.equal(letter?.sourceStream, stream);
    assert.equal(letter?.consumer, "worker-a");
    assert.ok(Date.parse(letter!.firstFailure) <= Date.parse(letter!.lastFailure));
    assert.deepEqual(letter?.originalFields, emailEntryFields(emailPayload(1)));
    assert.equal(await pendingCount(c, stream), 0, "dead-lettered entries are acknowledged");
    assert.equal(await c.redis.hlen(attemptsKey(stream, GROUP)), 0);
  });

  await t.step("a PermanentError sends the entry to the DLQ without retrying", async () => {
    const stream = freshStream("permanent");
    await addEmails(c.redis, stream, [1, 2]);
    const sink = recordingSink((d) => {
      if (uidOf(d) === 2) throw new PermanentError("no route for this message");
    });
    const reasons: string[] = [];
    const summary = await runWorker(
      options(c, stream, sink, { observer: { failed: (reason) => reasons.push(reason) } }),
    );
    assert.equal(sink.calls.length, 2);
    assert.equal(summary.processed, 1);
    assert.equal(summary.deadLettered, 1);
    assert.deepEqual(reasons, ["permanent"]);
    const [letter] = await dlqEntries(c, stream);
    assert.equal(letter?.reason, "permanent");
    assert.equal(letter?.attempts, 1);
    assert.equal(letter?.error, "no route for this message");
  });

  await t.step(
    "malformed entries go to the DLQ with the reason, and the worker carries on",
    async () => {
      const stream = freshStream("malformed");
      await c.redis.xadd(
        stream,
        "*",
        "type",
        "email",
        "idempotency_key",
        "k1",
        "payload",
        "{not json",
      );
      await c.redis.xadd(
        stream,
        "*",
        "type",
        "email",
        "idempotency_key",
        "k2",
        "payload",
        JSON.stringify({ schema_version: 1, account: "a" }),
      );
      await c.redis.xadd(stream, "*", "type", "fax", "reason", "arbitrary field names");
      await addEmails(c.redis, stream, [9]);
      const sink = recordingSink();
      const summary = await runWorker(options(c, stream, sink));
      assert.equal(sink.calls.length, 1, "only the valid entry reaches the sink");
      assert.equal(summary.deadLettered, 3);
      // In stream order (an entry with a bad type is dead-lettered as it is read, a bad payload
      // when its entry reaches the sink, so the DLQ's own order may differ).
      const letters = (await dlqEntries(c, stream)).sort((a, b) =>
        compareStreamIds(a.sourceId, b.sourceId)
      );
      assert.deepEqual(letters.map((l) => l.reason), ["malformed", "malformed", "malformed"]);
      assert.match(letters[0]!.error, /not valid JSON/);
      assert.match(letters[1]!.error, /wrong schema/);
      assert.match(letters[2]!.error, /unknown entry type/);
      // Original fields survive even when they clash with the DLQ's own names.
      assert.deepEqual(letters[2]!.originalFields, [
        "type",
        "fax",
        "reason",
        "arbitrary field names",
      ]);
    },
  );

  await t.step(
    "a payload that is not UTF-8 is dead-lettered and replayed with its bytes as they were written",
    async () => {
      const stream = freshStream("bytes");
      const payload = Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0xc3, 0x28, 0x7d]); // "{" 0xFF 0xFE '"' bad pair "}"
      await c.redis.xadd(stream, "*", "type", "email", "idempotency_key", "k", "payload", payload);
      const sink = recordingSink();
      const summary = await runWorker(options(c, stream, sink));
      assert.equal(sink.calls.length, 0);
      assert.equal(summary.deadLettered, 1);
      const [[, fields] = ["", []]] = await c.redis.xrangeBuffer(`${stream}:dlq`, "-", "+");
      assert.ok(payload.equals(payloadBytes(fields)), "its bytes are unchanged in the DLQ");
      const [letter] = await dlqEntries(c, stream);
      assert.equal(letter?.reason, "malformed");
      const dlqStream = `${stream}:dlq`;
      const { replayed } = await replayDeadLetters(c.redis, { stream, dlqStream }, [letter!.id]);
      const [[, back] = ["", []]] = await c.redis.xrangeBuffer(stream, replayed[0]!.newId, "+");
      assert.ok(payload.equals(payloadBytes(back)), "replay writes the same bytes back");
    },
  );

  await t.step(
    "a payload with invalid UTF-8 inside a JSON string keeps its bytes through its retries",
    async () => {
      const stream = freshStream("retried-bytes");
      const text = emailEntryFields(emailPayload(1)).at(-1)!;
      const at = text.indexOf('"subject":"') + '"subject":"'.length;
      const payload = Buffer.concat([
        Buffer.from(text.slice(0, at)),
        Buffer.from([0xff, 0xc3]),
        Buffer.from(text.slice(at)),
      ]);
      await c.redis.xadd(stream, "*", "type", "email", "idempotency_key", "k", "payload", payload);
      const failing = recordingSink(() => {
        throw new Error("still broken");
      });
      const summary = await runWorker(
        options(c, stream, failing, { env: { WORKER_MAX_ATTEMPTS: "2" } }),
      );
      assert.deepEqual(failing.calls.map((d) => d.attempt), [1, 2], "the retry was claimed");
      assert.equal(summary.deadLettered, 1);
      const [[, fields] = ["", []]] = await c.redis.xrangeBuffer(`${stream}:dlq`, "-", "+");
      assert.ok(payload.equals(payloadBytes(fields)), "its bytes are unchanged in the DLQ");
    },
  );

  await t.step(
    "an entry delivered more times than allowed is dead-lettered as poison",
    async () => {
      const stream = freshStream("poison");
      await c.redis.xgroup("CREATE", stream, GROUP, "0", "MKSTREAM");
      const [id] = await addEmails(c.redis, stream, [1]);
      // A consumer that keeps crashing on it: delivered 3 times already.
      await c.redis.xreadgroup("GROUP", GROUP, "crashed", "COUNT", 1, "STREAMS", stream, ">");
      await c.redis.xclaim(stream, GROUP, "crashed", 0, id!);
      await c.redis.xclaim(stream, GROUP, "crashed", 0, id!);
      const sink = recordingSink();
      const summary = await runWorker(
        options(c, stream, sink, {
          visibilityTimeoutMs: 150,
          env: { WORKER_MAX_ATTEMPTS: "3" },
        }),
      );
      assert.equal(sink.calls.length, 0, "the poison message is not handed to the sink again");
      assert.equal(summary.reclaimed, 1);
      const [letter] = await dlqEntries(c, stream);
      assert.equal(letter?.reason, "poison");
      assert.equal(letter?.attempts, 4);
      assert.match(letter!.error, /delivered 4 times/);
    },
  );

  await t.step(
    "entries of a consumer that stopped are reclaimed after the visibility timeout",
    async () => {
      const stream = freshStream("stalled");
      await c.redis.xgroup("CREATE", stream, GROUP, "0", "MKSTREAM");
      const ids = await addEmails(c.redis, stream, [1, 2]);
      await c.redis.xreadgroup("GROUP", GROUP, "gone", "COUNT", 2, "STREAMS", stream, ">");
      const sink = recordingSink();
      const reclaimed: number[] = [];
      const summary = await runWorker(
        options(c, stream, sink, {
          visibilityTimeoutMs: 200,
          observer: { reclaimed: (n) => reclaimed.push(n) },
        }),
      );
      // "gone" was handed each entry once (attempt 1, never finished): this run is attempt 2.
      assert.deepEqual(sink.calls.map((d) => [d.id, d.attempt]), ids.map((id) => [id, 2]));
      assert.equal(summary.reclaimed, 2);
      assert.deepEqual(reclaimed, [2]);
      assert.equal(await pendingCount(c, stream), 0);
    },
  );

  await t.step(
    "consumers idle for long with nothing pending are removed from the group",
    async () => {
      const stream = freshStream("prune");
      await c.redis.xgroup("CREATE", stream, GROUP, "0", "MKSTREAM");
      await c.redis.xgroup("CREATECONSUMER", stream, GROUP, "idle-empty");
      await addEmails(c.redis, stream, [1]);
      await c.redis.xreadgroup("GROUP", GROUP, "idle-holding", "COUNT", 1, "STREAMS", stream, ">");
      await new Promise((resolve) => setTimeout(resolve, 120));
      const controller = new AbortController();
      const worker = startWorker(
        options(c, stream, recordingSink(), {
          drain: false,
          signal: controller.signal,
          consumerIdleTimeoutMs: 100,
          visibilityTimeoutMs: 600_000,
        }),
      );
      const names = async () =>
        ((await c.redis.xinfo("CONSUMERS", stream, GROUP)) as string[][]).map((c) => c[1]);
      await waitUntil("idle-empty is removed", async () => !(await names()).includes("idle-empty"));
      controller.abort();
      await worker.done;
      const left = await names();
      assert.ok(left.includes("idle-holding"), "a consumer with pending entries is kept");
      assert.ok(!left.includes("idle-empty"));
    },
  );

  await t.step(
    "two workers in one group never handle the same entry at the same time",
    async () => {
      const stream = freshStream("pair");
      await addEmails(c.redis, stream, range(120));
      const active = new Set<string>();
      const handledBy = new Map<string, string[]>();
      let overlaps = 0;
      const sinkFor = (name: string) =>
        recordingSink(async (d) => {
          if (active.has(d.id)) overlaps++;
          active.add(d.id);
          handledBy.set(d.id, [...(handledBy.get(d.id) ?? []), name]);
          // A few handlers outlive the visibility timeout: their entries must not be taken over.
          await new Promise((r) => setTimeout(r, uidOf(d) % 40 === 0 ? 700 : 5));
          active.delete(d.id);
        });
      await using other = await clients(server);
      const [a, b] = await Promise.all([
        runWorker(options(c, stream, sinkFor("a"), { concurrency: 4, visibilityTimeoutMs: 300 })),
        runWorker(
          options(other, stream, sinkFor("b"), {
            consumer: "worker-b",
            concurrency: 4,
            visibilityTimeoutMs: 300,
          }),
        ),
      ]);
      assert.equal(overlaps, 0);
      assert.equal(handledBy.size, 120);
      assert.ok([...handledBy.values()].every((by) => by.length === 1), "each entry handled once");
      assert.equal(a.processed + b.processed, 120);
      assert.equal(a.reclaimed + b.reclaimed, 0);
      assert.ok(a.processed > 0 && b.processed > 0, "both workers took a share");
    },
  );

  await t.step("status() and ready() describe a running worker", async () => {
    const stream = freshStream("status");
    const controller = new AbortController();
    const worker = startWorker(
      options(c, stream, recordingSink(), { drain: false, signal: controller.signal }),
    );
    await waitUntil("the worker runs", () => worker.status().state === "running");
    await waitUntil("a heartbeat", () => worker.status().last_heartbeat_at !== null);
    const readiness = await worker.ready();
    assert.deepEqual(readiness, {
      ready: true,
      checks: { loop: { ok: true }, group: { ok: true } },
    });
    const status = worker.status();
    assert.equal(status.group, GROUP);
    assert.equal(status.consumer, "worker-a");
    assert.equal(status.sink, "test");
    await c.redis.xgroup("DESTROY", stream, GROUP);
    const broken = await worker.ready();
    assert.equal(broken.ready, false);
    assert.match(broken.checks.group.detail!, /does not exist/);
    controller.abort();
    await worker.done;
    assert.equal(worker.status().state, "stopped");
    assert.equal((await worker.ready()).ready, false);
  });
});
