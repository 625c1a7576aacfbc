/**
 * Reading ahead of the sink calls (`WORKER_READ_AHEAD`) against a real Redis:
 * the worker holds more entries than `--concurrency`, but never makes more
 * sink calls at once, hands entries over in read order, delivers each once;
 * at the shutdown timeout the entries still waiting for their turn are not
 * handed to the sink and stay pending for another worker.
 */

import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { silentLogger } from "../src/log/logger.ts";
import type { EmailPayload } from "../src/stream/entry.ts";
import type { Delivery, Sink } from "../src/sinks/sink.ts";
import { startWorker } from "../src/worker/worker.ts";
import type { WorkerSummary } from "../src/worker/worker_types.ts";
import { startRedis } from "./harness/redis_server.ts";
import {
  addEmails,
  client,
  freshStream,
  range,
  waitUntil,
  workerConfig,
} from "./worker_fixtures.ts";

/** A sink whose calls wait for `release()`; counts the calls running at once. */
function gatedSink(): Sink & { calls: number[]; most: number; release(): void } {
  let running = 0;
  let open: () => void = () => {};
  let opened = new Promise<void>((resolve) => (open = resolve));
  const sink = {
    kind: "test",
    calls: [] as number[],
    most: 0,
    release() {
      open();
      opened = new Promise<void>((resolve) => (open = resolve));
    },
    async handle(delivery: Delivery) {
      sink.calls.push((delivery.payload as EmailPayload).uid);
      sink.most = Math.max(sink.most, ++running);
      try {
        await opened;
      } finally {
        running--;
      }
    },
    close: () => Promise.resolve(),
  };
  return sink;
}

/**
 * A draining worker over `stream` with `--concurrency 2 --read-ahead 3` (or
 * `limits`), its blocking reads on `blocking`.
 */
function startReadAheadWorker(
  redis: Redis,
  blocking: Redis,
  url: string,
  stream: string,
  sink: Sink,
  limits = { concurrency: 2, readAhead: 3 },
) {
  return startWorker({
    redis,
    blockingRedis: blocking,
    config: workerConfig(url, stream),
    sink,
    consumer: "c",
    ...limits,
    drain: true,
    logger: silentLogger,
  });
}

/** Releases the gated sink's calls until the draining `worker` is done; its summary. */
async function releaseUntilDone(
  sink: { release(): void },
  worker: { done: Promise<WorkerSummary> },
): Promise<WorkerSummary> {
  const releasing = setInterval(() => sink.release(), 5);
  try {
    return await worker.done;
  } finally {
    clearInterval(releasing);
  }
}

Deno.test("read-ahead holds more entries than sink calls, hands them over in order, once each", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  const blocking = await client(server.url);
  try {
    const stream = freshStream("read-ahead");
    await addEmails(redis, stream, range(10));
    const sink = gatedSink();
    const worker = startReadAheadWorker(redis, blocking, server.url, stream, sink);
    await waitUntil("five entries in hand", () => worker.status().in_flight === 5);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(sink.calls, [1, 2], "two sink calls, three entries waiting for their turn");
    assert.equal(worker.status().in_flight, 5, "no more read than concurrency + read-ahead");
    const summary = await releaseUntilDone(sink, worker);
    assert.equal(summary.processed, 10);
    assert.deepEqual(sink.calls, range(10), "in read order, each once");
    assert.equal(sink.most, 2, "never more than --concurrency sink calls at once");
  } finally {
    redis.disconnect();
    blocking.disconnect();
  }
});

/** `redis` as it is, noting the COUNT of every XREADGROUP sent through `call` or `callBuffer`. */
function countingReads(redis: Redis): { redis: Redis; counts: number[] } {
  const counts: number[] = [];
  const proxy = new Proxy(redis, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property !== "call" && property !== "callBuffer") return value.bind(target);
      return (...args: unknown[]) => {
        if (args[0] === "XREADGROUP") counts.push(Number(args[args.indexOf("COUNT") + 1]));
        return value.apply(target, args);
      };
    },
  });
  return { redis: proxy, counts };
}

Deno.test("with read-ahead each read asks for at most --concurrency entries, and the next is sent while the sink holds the first", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  const blocking = await client(server.url);
  try {
    const stream = freshStream("read-ahead-reads");
    await addEmails(redis, stream, range(12));
    const sink = gatedSink();
    const reads = countingReads(blocking);
    const worker = startReadAheadWorker(redis, reads.redis, server.url, stream, sink);
    await waitUntil("five entries in hand", () => worker.status().in_flight === 5);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // One read of 5 would leave nothing to read while that batch is checked and settled.
    assert.deepEqual(reads.counts, [2, 2, 1], "reads of at most 2, up to 5 in hand");
    assert.deepEqual(sink.calls, [1, 2], "all while the first two are still in the sink");
    const summary = await releaseUntilDone(sink, worker);
    assert.equal(summary.processed, 12);
    assert.deepEqual(sink.calls, range(12), "in read order, each once");
    assert.ok(reads.counts.every((count) => count <= 2), `reads: ${reads.counts.join(" ")}`);
  } finally {
    redis.disconnect();
    blocking.disconnect();
  }
});

Deno.test("above a concurrency of 256 a read asks for half of it, so two read batches are in the sink at once", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  const blocking = await client(server.url);
  try {
    const stream = freshStream("split-reads");
    await addEmails(redis, stream, range(700));
    const sink = gatedSink();
    const reads = countingReads(blocking);
    const worker = startReadAheadWorker(redis, reads.redis, server.url, stream, sink, {
      concurrency: 300,
      readAhead: 0,
    });
    await waitUntil("300 entries in the sink", () => sink.calls.length === 300);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(reads.counts, [150, 150], "two reads of half the concurrency");
    assert.equal(sink.most, 300, "both batches in the sink together");
    const summary = await releaseUntilDone(sink, worker);
    assert.equal(summary.processed, 700);
    assert.deepEqual(sink.calls, range(700), "in read order, each once");
    assert.ok(reads.counts.every((count) => count <= 150), `reads: ${reads.counts.join(" ")}`);
  } finally {
    redis.disconnect();
    blocking.disconnect();
  }
});

Deno.test("at the shutdown timeout, entries read ahead are not handed to the sink and stay pending", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  const blocking = await client(server.url);
  try {
    const stream = freshStream("read-ahead-stop");
    await addEmails(redis, stream, range(4));
    const sink = gatedSink();
    const stop = new AbortController();
    const worker = startWorker({
      redis,
      blockingRedis: blocking,
      config: workerConfig(server.url, stream),
      sink,
      consumer: "c",
      concurrency: 1,
      readAhead: 3,
      shutdownTimeoutMs: 200,
      logger: silentLogger,
      signal: stop.signal,
    });
    await waitUntil("four entries in hand", () => worker.status().in_flight === 4);
    stop.abort();
    const summary = await worker.done;
    assert.deepEqual(sink.calls, [1], "only the entry in the sink was handed over");
    assert.equal(summary.abandoned, 4);
    assert.equal(summary.processed, 0);
    const pending = await redis.xpending(stream, "email_workers") as [number, ...unknown[]];
    assert.equal(Number(pending[0]), 4, "all four stay pending: another worker takes them over");
  } finally {
    redis.disconnect();
    blocking.disconnect();
  }
});
