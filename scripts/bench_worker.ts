/**
 * Worker throughput with the file sink, on a private redis-server (never the
 * Redis on 6379): fills a fresh stream with N realistic-sized email entries,
 * runs the worker core in drain mode, and prints entries per second.
 *
 *   deno run -A scripts/bench_worker.ts [--entries 20000] [--concurrency 64] [--null-sink]
 *
 * Every entry still gets its own idempotency check, processed-record + XACK
 * script and a durable (fdatasync'd, group-committed) line in the file.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/log/logger.ts";
import { createFileSink } from "../src/sinks/file_sink.ts";
import type { Sink } from "../src/sinks/sink.ts";
import { emailEntryFields, type EmailPayload, SCHEMA_VERSION } from "../src/stream/entry.ts";
import { runWorker } from "../src/worker/worker.ts";
import { startRedis } from "../tests/harness/redis_server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    entries: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "64" },
    // Baseline: a sink that does nothing, to separate worker cost from sink cost.
    "null-sink": { type: "boolean", default: false },
  },
});
const entries = Number(values.entries);
const concurrency = Number(values.concurrency);

function payload(uid: number): EmailPayload {
  return {
    schema_version: SCHEMA_VERSION,
    account: "bench@example.test",
    mailbox: "INBOX",
    uid,
    uidvalidity: 1,
    message_id: `<bench-${uid}@example.test>`,
    from: "sender@example.test",
    to: ["bench@example.test"],
    cc: [],
    reply_to: [],
    subject: `Benchmark message ${uid}`,
    date: new Date().toISOString(),
    internal_date: new Date().toISOString(),
    in_reply_to: null,
    references: [],
    body_text: "x".repeat(2000),
    body_html_preview: "<p>" + "y".repeat(490) + "</p>",
    size: 15_000,
    flags: [],
    headers: { "Content-Type": "text/plain; charset=utf-8" },
    attachments: [],
    gmail: null,
    fetched_at: new Date().toISOString(),
  };
}

await using server = await startRedis();
const stream = "bench:stream";
const redis = new Redis(server.url);
const blocking = new Redis(server.url);
const dir = await Deno.makeTempDir({ prefix: "ingest-bench-" });
try {
  for (let start = 1; start <= entries; start += 1000) {
    const pipeline = redis.pipeline();
    for (let uid = start; uid < start + 1000 && uid <= entries; uid++) {
      pipeline.xadd(stream, "*", ...emailEntryFields(payload(uid)));
    }
    await pipeline.exec();
  }
  const config = loadConfig({ env: { REDIS_URL: server.url, REDIS_STREAM_NAME: stream } });
  const nullSink = values["null-sink"];
  const sink: Sink = nullSink
    ? { kind: "null", handle: () => Promise.resolve(), close: () => Promise.resolve() }
    : await createFileSink(`${dir}/out.jsonl`);
  const started = performance.now();
  const summary = await runWorker({
    redis,
    blockingRedis: blocking,
    config,
    sink,
    consumer: "bench",
    concurrency,
    drain: true,
    logger: silentLogger,
  });
  const seconds = (performance.now() - started) / 1000;
  await sink.close();
  const lines = nullSink
    ? entries
    : (await Deno.readTextFile(`${dir}/out.jsonl`)).split("\n").length - 1;
  if (summary.processed !== entries || lines !== entries) {
    throw new Error(`expected ${entries} processed, got ${summary.processed} (${lines} lines)`);
  }
  console.log(
    `worker, ${nullSink ? "null" : "file"} sink: ${entries} entries in ${seconds.toFixed(2)} s = ` +
      `${Math.round(entries / seconds)} entries/s (concurrency ${concurrency})`,
  );
} finally {
  redis.disconnect();
  blocking.disconnect();
  await Deno.remove(dir, { recursive: true });
}
