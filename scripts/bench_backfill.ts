/**
 * The history backfill lane against the plain initial sync, on a private
 * Dovecot and Redis: for each run, the wall time of `ingest produce --once`
 * (the history upwards on the live path) and of a long-running
 * `ingest produce` until its backfill lane is done, and the latency of
 * messages appended while that backfill runs (APPEND answered → in the
 * stream), next to one appended after it. Prints each run and the medians.
 *
 *   deno run -A scripts/bench_backfill.ts [--messages 5000] [--runs 3] [--live 5] [--body 400]
 *
 * Messages are small (`--body` bytes of text) so the run measures the
 * producer, not the disk. Dovecot 2.3 adds 500 ms to every IDLE notification.
 *
 * @module
 */

import { Redis } from "ioredis";
import { readBackfill } from "../src/state/backfill.ts";
import { execIngest, spawnIngest } from "../tests/harness/cli.ts";
import { startDovecot } from "../tests/harness/dovecot.ts";
import { pipelineEnv, TEST_USER } from "../tests/harness/pipeline_env.ts";
import { startRedis } from "../tests/harness/redis_server.ts";
import { scriptOptions } from "./script_options.ts";

const values = scriptOptions(import.meta.filename!, {
  messages: { type: "string", default: "5000" },
  runs: { type: "string", default: "3" },
  live: { type: "string", default: "5" },
  body: { type: "string", default: "400" },
});
const MESSAGES = Number(values.messages);
const RUNS = Number(values.runs);
const LIVE = Number(values.live);
const BODY = Number(values.body);
const REF = { account: TEST_USER, mailbox: "INBOX" };
const encoder = new TextEncoder();

function message(tag: string): Uint8Array {
  return encoder.encode(
    `From: s@example.test\r\nTo: ${TEST_USER}\r\nSubject: ${tag}\r\nMessage-ID: <${tag}@bench.test>\r\n` +
      `Date: Mon, 1 Jun 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\n${
        "x".repeat(BODY)
      }\r\n`,
  );
}

function* history(): Iterable<Uint8Array> {
  for (let i = 0; i < MESSAGES; i++) yield message(`old-${i}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inStream(redis: Redis, tag: string): Promise<boolean> {
  return await redis.sismember(
        `producer_published:${TEST_USER}:INBOX`,
        `mid:<${tag}@bench.test>`,
      ) ===
      1 ||
    await redis.sismember(`producer_published:${TEST_USER}:INBOX`, `mid:${tag}@bench.test`) === 1;
}

/** APPEND, then the ms until the message is in the stream. */
async function liveLatency(
  dovecot: Awaited<ReturnType<typeof startDovecot>>,
  redis: Redis,
  tag: string,
): Promise<number> {
  await dovecot.append(TEST_USER, "INBOX", message(tag));
  const appended = performance.now();
  while (!await inStream(redis, tag)) await sleep(5);
  return performance.now() - appended;
}

await using dovecot = await startDovecot();
await using server = await startRedis();
const redis = new Redis(server.url);
await dovecot.seedMaildir(TEST_USER, "INBOX", history());
const onceTimes: number[] = [];
const laneTimes: number[] = [];
const during: number[] = [];
const after: number[] = [];
for (let run = 0; run < RUNS; run++) {
  // Each run starts from an empty Redis; the mailbox only grows by the live messages.
  await redis.flushall();
  const env = {
    ...pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url }),
    LOG_LEVEL: "warn",
  };
  const onceStart = performance.now();
  const once = await execIngest(["produce", "--once"], { env });
  if (once.code !== 0) throw new Error(`produce --once exited ${once.code}: ${once.stderr}`);
  onceTimes.push((performance.now() - onceStart) / 1000);
  await redis.flushall();
  const laneStart = performance.now();
  const producer = spawnIngest(["produce"], { env });
  try {
    while (((await readBackfill(redis, REF))?.doneUid ?? 0) === 0) await sleep(10);
    const latencies: number[] = [];
    for (let i = 0; i < LIVE; i++) {
      const backfill = await readBackfill(redis, REF);
      if (backfill?.state !== "running") break;
      latencies.push(await liveLatency(dovecot, redis, `live-${run}-${i}`));
    }
    while ((await readBackfill(redis, REF))?.state !== "done") await sleep(10);
    laneTimes.push((performance.now() - laneStart) / 1000);
    const idle = await liveLatency(dovecot, redis, `after-${run}`);
    during.push(...latencies);
    after.push(idle);
    console.log(
      `run ${run + 1}: produce --once ${onceTimes.at(-1)!.toFixed(2)} s; produce until backfill ` +
        `done ${laneTimes.at(-1)!.toFixed(2)} s; live during backfill ${
          latencies.map((l) => l.toFixed(0)).join(", ")
        } ms; after ${idle.toFixed(0)} ms`,
    );
  } finally {
    producer.kill("SIGTERM");
    await producer.output();
  }
}
redis.disconnect();
console.log(
  `median of ${RUNS} runs, ${MESSAGES} messages: produce --once ${
    median(onceTimes).toFixed(2)
  } s, ` +
    `backfill lane ${median(laneTimes).toFixed(2)} s, live latency during backfill ${
      median(during).toFixed(0)
    } ms (max ${Math.max(...during).toFixed(0)}), after ${median(after).toFixed(0)} ms`,
);
