import assert from "node:assert/strict";
import { silentLogger } from "../src/log/logger.ts";
import type { Delivery, Sink } from "../src/sinks/sink.ts";
import type { EmailPayload } from "../src/stream/entry.ts";
import { startWorker } from "../src/worker/worker.ts";
import { startRedis } from "./harness/redis_server.ts";
import {
  addEmails,
  client,
  freshStream,
  range,
  waitUntil,
  workerConfig,
} from "./worker_fixtures.ts";

const BASE_MS = 100;
const CAP_MS = 300;
const FAILURES = 4;

Deno.test("a waiting worker retries a failed entry at its backoff delay, not when its blocking read times out", async () => {
  await using server = await startRedis();
  const redis = await client(server.url);
  const blocking = await client(server.url);
  const stream = freshStream("retry-gaps");
  const entries = 3;
  await addEmails(redis, stream, range(entries));
  const attemptsAt = new Map<number, number[]>();
  const sink: Sink = {
    kind: "test",
    handle(delivery: Delivery) {
      const uid = (delivery.payload as EmailPayload).uid;
      attemptsAt.set(uid, [...(attemptsAt.get(uid) ?? []), performance.now()]);
      return delivery.attempt <= FAILURES
        ? Promise.reject(new Error("not yet"))
        : Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  const controller = new AbortController();
  const worker = startWorker({
    config: workerConfig(server.url, stream, {
      WORKER_BACKOFF_BASE_MS: String(BASE_MS),
      WORKER_BACKOFF_CAP_MS: String(CAP_MS),
      WORKER_MAX_ATTEMPTS: "10",
    }),
    redis,
    blockingRedis: blocking,
    sink,
    consumer: "gaps",
    logger: silentLogger,
    signal: controller.signal,
    blockMs: 1_000, // each retry would wait up to a whole block without the wake-up
    random: () => 0.999_999, // every delay at its ceiling
  });
  try {
    await waitUntil(
      "every entry delivered",
      () => [...attemptsAt.values()].filter((t) => t.length > FAILURES).length === entries,
    );
  } finally {
    controller.abort();
    await worker.done;
    redis.disconnect();
    blocking.disconnect();
  }
  const excess: number[] = [];
  for (const times of attemptsAt.values()) {
    for (let i = 1; i < times.length; i++) {
      const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** (i - 1));
      excess.push(times[i]! - times[i - 1]! - ceiling);
    }
  }
  excess.sort((a, b) => a - b);
  const median = excess[excess.length >> 1]!;
  console.log(
    `retry gap over its ceiling: median ${median.toFixed(0)} ms, max ${
      excess.at(-1)!.toFixed(0)
    } ms`,
  );
  // Before: up to ~960 ms over (the rest of a 1 s BLOCK), or ~100 ms (Redis's BLOCK timer).
  assert.ok(median < 50, `median excess ${median} ms`);
  assert.ok(excess.at(-1)! < 250, `max excess ${excess.at(-1)} ms`);
});
