/**
 * The `worker` section of scripts/bench_cluster.ts: the worker core
 * (`startPartitionedWorker`, drain mode, one loop and blocking connection
 * per partition) reading `entries` email entries spread evenly over the
 * target's partitions, with a null sink and with the file sink (fdatasync'd
 * lines), `--worker-concurrency` split over the partitions as `ingest work`
 * does: entries/s, the median of `runs` runs after one warm-up, targets
 * interleaved run by run. Each run is a fresh stream, so every entry also
 * gets its idempotency check and its processed-record + XACK script.
 *
 * @module
 */

import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/log/logger.ts";
import type { RedisClient } from "../src/redis/client.ts";
import { closeRedis, connectRedis } from "../src/redis/connection.ts";
import { partitionStreams } from "../src/redis/partitions.ts";
import { createFileSink } from "../src/sinks/file_sink.ts";
import type { Sink } from "../src/sinks/sink.ts";
import { emailEntryFields } from "../src/stream/entry.ts";
import { partitionConcurrency, startPartitionedWorker } from "../src/worker/partition_readers.ts";
import { emailPayload } from "../tests/worker_fixtures.ts";

/** Where the section runs (a target of bench_cluster.ts). */
export interface WorkerBenchTarget {
  readonly name: string;
  /** REDIS_URL or REDIS_CLUSTER_NODES, and STREAM_PARTITIONS. */
  readonly env: Record<string, string>;
  readonly partitions: number;
}

/** What the section measures. */
export interface WorkerBenchOptions {
  readonly entries: number;
  readonly concurrency: number;
  readonly runs: number;
}

/** Fills a fresh stream's partitions with `entries` entries, one pipeline per partition. */
async function fill(
  redis: RedisClient,
  stream: string,
  target: WorkerBenchTarget,
  entries: number,
) {
  const streams = partitionStreams(stream, target.partitions);
  await Promise.all(streams.map(async (partition, p) => {
    // On a cluster a pipeline must stay in one slot: one per partition.
    for (let start = p + 1; start <= entries; start += 500 * streams.length) {
      const pipeline = redis.pipeline();
      for (
        let uid = start;
        uid < start + 500 * streams.length && uid <= entries;
        uid += streams.length
      ) {
        pipeline.xadd(partition, "*", ...emailEntryFields(emailPayload(uid)));
      }
      await pipeline.exec();
    }
  }));
}

/** One drain of a fresh stream with `kind` sink; returns entries/s. */
async function workerRun(
  target: WorkerBenchTarget,
  options: WorkerBenchOptions,
  kind: "null" | "file",
  dir: string,
): Promise<number> {
  const stream = `bench-work-${crypto.randomUUID().slice(0, 8)}`;
  const config = loadConfig({ env: { ...target.env, REDIS_STREAM_NAME: stream } });
  const connect = (name: string) => connectRedis(config.redis, { name, logger: silentLogger });
  const redis = await connect("bench:worker");
  const blocking = await Promise.all(
    partitionStreams(stream, target.partitions).map((_, i) => connect(`bench:read:${i}`)),
  );
  const file = `${dir}/${stream}.jsonl`;
  const sink: Sink = kind === "null"
    ? { kind: "null", handle: () => Promise.resolve(), close: () => Promise.resolve() }
    : await createFileSink(file);
  try {
    await fill(redis, stream, target, options.entries);
    const started = performance.now();
    const summary = await startPartitionedWorker({
      redis,
      blockingRedis: blocking,
      config,
      sink,
      consumer: "bench",
      concurrency: options.concurrency,
      drain: true,
      logger: silentLogger,
    }).done;
    const seconds = (performance.now() - started) / 1000;
    if (summary.processed !== options.entries) {
      throw new Error(`${target.name}: ${summary.processed} of ${options.entries} processed`);
    }
    return options.entries / seconds;
  } finally {
    await sink.close();
    await Deno.remove(file).catch(() => {});
    await Promise.all([redis, ...blocking].map(closeRedis));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** The section's table: one row per target. */
export async function workerSection(
  targets: readonly WorkerBenchTarget[],
  options: WorkerBenchOptions,
): Promise<string[][]> {
  const dir = await Deno.makeTempDir({ prefix: "ingest-bench-cluster-worker-" });
  try {
    const rates = targets.map(() => ({ null: [] as number[], file: [] as number[] }));
    for (let run = -1; run < options.runs; run++) {
      for (const [i, target] of targets.entries()) {
        for (const kind of ["null", "file"] as const) {
          const rate = await workerRun(target, options, kind, dir);
          if (run >= 0) rates[i]![kind].push(rate); // run -1 warms up
        }
      }
    }
    const rows = [[
      "target",
      "entries",
      "concurrency",
      "null sink entries/s",
      "file sink entries/s",
    ]];
    for (const [i, target] of targets.entries()) {
      rows.push([
        target.name,
        String(options.entries),
        `${partitionConcurrency(options.concurrency, target.partitions)} x ${target.partitions}`,
        String(Math.round(median(rates[i]!.null))),
        String(Math.round(median(rates[i]!.file))),
      ]);
    }
    return rows;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
