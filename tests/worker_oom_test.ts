import assert from "node:assert/strict";
import { silentLogger } from "../src/log/logger.ts";
import { createMetricsRegistry } from "../src/metrics/registry.ts";
import { createWorkerMetrics } from "../src/metrics/worker.ts";
import { parseMetrics, sampleValue } from "./harness/metrics_text.ts";
import type { Delivery, Sink } from "../src/sinks/sink.ts";
import { startWorker, type WorkerHandle, type WorkerSummary } from "../src/worker/worker.ts";
import { fillRedis } from "./harness/redis_fill.ts";
import { startRedis } from "./harness/redis_server.ts";
import {
  addEmails,
  client,
  freshStream,
  range,
  waitUntil,
  workerConfig,
} from "./worker_fixtures.ts";

/** A sink that takes `ms` per delivery and records each successful run. */
function slowSink(ms: number): Sink & { runs: Delivery[] } {
  const runs: Delivery[] = [];
  return {
    kind: "test",
    runs,
    async handle(delivery) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      runs.push(delivery);
    },
    close: () => Promise.resolve(),
  };
}

Deno.test("workers on a Redis that fills up mid-run run each handler once and dead-letter nothing", async () => {
  await using server = await startRedis();
  const admin = await client(server.url);
  const stream = freshStream("oom");
  const config = workerConfig(server.url, stream, { WORKER_MAX_ATTEMPTS: "3" });
  await admin.xgroup("CREATE", stream, config.worker.group, "0", "MKSTREAM");
  const ids = await addEmails(admin, stream, range(40));
  const sink = slowSink(150);
  const connections = await Promise.all(range(4).map(() => client(server.url)));
  const stop = new AbortController();
  const registry = createMetricsRegistry();
  const metrics = createWorkerMetrics(registry, { group: config.worker.group });
  const workers: WorkerHandle[] = ["w-a", "w-b"].map((consumer, i) =>
    startWorker({
      redis: connections[2 * i]!,
      blockingRedis: connections[2 * i + 1]!,
      config,
      sink,
      consumer,
      concurrency: 3,
      drain: true,
      blockMs: 50,
      // Far shorter than the fault, so an entry left untouched would be reclaimed (and re-run).
      visibilityTimeoutMs: 300,
      logger: silentLogger,
      signal: stop.signal,
      observer: metrics,
    })
  );
  try {
    await waitUntil("some handlers ran", () => sink.runs.length >= 2);
    const filled = await fillRedis(admin, { headroomBytes: 2 * 1024 * 1024 });
    const runsBeforeFault = sink.runs.length;
    assert.ok(filled.keys > 0 && filled.maxBytes > 0);
    const blockedDetails: string[] = [];
    const faultEnds = Date.now() + 2_500;
    while (Date.now() < faultEnds) {
      for (const worker of workers) {
        const ready = await worker.ready();
        if (!ready.checks.loop.ok) blockedDetails.push(ready.checks.loop.detail ?? "");
        assert.equal(worker.status().state, "running", "no worker drained while Redis was full");
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const runsDuringFault = sink.runs.length;
    // At most what was in flight when Redis filled up (2 workers x 3), plus reads racing the fill.
    assert.ok(
      runsDuringFault <= runsBeforeFault + 12,
      `workers that cannot settle take no new work: ${runsBeforeFault} -> ${runsDuringFault} runs`,
    );
    assert.ok(
      blockedDetails.some((d) => /cannot be settled .*out of memory.*maxmemory/.test(d)),
      `a blocked worker says why on /ready: ${JSON.stringify(blockedDetails.slice(0, 2))}`,
    );
    await filled.free();
    const summaries: WorkerSummary[] = await Promise.all(workers.map((w) => w.done));

    const byKey = new Map<string, number>();
    for (const run of sink.runs) {
      byKey.set(run.idempotencyKey, (byKey.get(run.idempotencyKey) ?? 0) + 1);
    }
    assert.equal(byKey.size, ids.length, "every entry was handled");
    assert.deepEqual([...byKey.values()].filter((n) => n > 1), [], "no handler ran twice");
    assert.deepEqual([...new Set(sink.runs.map((r) => r.attempt))], [1], "attempts are truthful");
    assert.equal(summaries.reduce((n, s) => n + s.processed, 0), ids.length);
    assert.equal(summaries.reduce((n, s) => n + s.reclaimed, 0), 0, "no live entry was reclaimed");
    assert.equal(summaries.reduce((n, s) => n + s.deadLettered, 0), 0);
    assert.equal(await admin.xlen(config.redis.dlqStreamName), 0, "nothing in the DLQ");
    const samples = parseMetrics(await registry.metrics());
    const g = { group: config.worker.group };
    assert.ok(
      sampleValue(samples, "email_ingestion_settles_refused_total", { ...g, reason: "oom" })! > 0,
      "refused settles are counted by reason",
    );
    assert.equal(sampleValue(samples, "email_ingestion_entries_unsettled", g), 0);
    const pending = await admin.xpending(stream, config.worker.group) as [number];
    assert.equal(Number(pending[0]), 0);
  } finally {
    stop.abort();
    await Promise.allSettled(workers.map((w) => w.done));
    for (const c of [admin, ...connections]) c.disconnect();
  }
});

Deno.test("a worker stopped while its settle is refused leaves the entry pending; the next run is attempt 2", async () => {
  await using server = await startRedis();
  const admin = await client(server.url);
  const stream = freshStream("oom-stop");
  const config = workerConfig(server.url, stream);
  await admin.xgroup("CREATE", stream, config.worker.group, "0", "MKSTREAM");
  const [id] = await addEmails(admin, stream, [1]);
  const connections = await Promise.all(range(4).map(() => client(server.url)));
  let filled: Awaited<ReturnType<typeof fillRedis>> | undefined;
  const attempts: number[] = [];
  const stop = new AbortController();
  try {
    const first = startWorker({
      redis: connections[0]!,
      blockingRedis: connections[1]!,
      config,
      // Redis fills up while the handler runs: its success cannot be recorded.
      sink: {
        kind: "test",
        async handle(delivery) {
          attempts.push(delivery.attempt);
          filled = await fillRedis(admin);
        },
        close: () => Promise.resolve(),
      },
      consumer: "first",
      blockMs: 50,
      shutdownTimeoutMs: 300,
      logger: silentLogger,
      signal: stop.signal,
    });
    await waitUntil("the settle is refused", () => first.status().unsettled === 1);
    stop.abort();
    const summary = await first.done;
    assert.equal(summary.abandoned, 1);
    assert.equal(summary.processed, 0);
    const pending = await admin.xpending(stream, config.worker.group) as [number];
    assert.equal(Number(pending[0]), 1, "the entry stays pending for another worker");

    await filled!.free();
    await admin.config("SET", "maxmemory", "0");
    const sink = slowSink(0);
    const second = await startWorker({
      redis: connections[2]!,
      blockingRedis: connections[3]!,
      config,
      sink,
      consumer: "second",
      drain: true,
      blockMs: 50,
      visibilityTimeoutMs: 200,
      logger: silentLogger,
    }).done;
    assert.equal(second.reclaimed, 1);
    assert.deepEqual(sink.runs.map((r) => [r.id, r.attempt]), [[id, 2]]);
    assert.deepEqual(attempts, [1]);
  } finally {
    stop.abort();
    for (const c of [admin, ...connections]) c.disconnect();
  }
});
