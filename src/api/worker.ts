/**
 * Run a worker from code: read the stream as a consumer group, hand each
 * entry to a sink, settle it (acknowledge, retry with backoff, or dead-letter).
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import type { WorkerObserver } from "../observe/events.ts";
import type { Sink } from "../sinks/sink.ts";
import { startWorker as start, type WorkerHandle, type WorkerSummary } from "../worker/worker.ts";
import { redisClientOf, type RedisConnection } from "./redis_connection.ts";
import {
  type PartitionedWorkerHandle,
  startPartitionedWorker as startPartitioned,
} from "../worker/partition_readers.ts";

/** Options of {@link startWorker} and {@link runWorker}; durations in ms. */
export interface WorkerOptions {
  /** From `connectRedis`: every command but the blocking read. */
  readonly redis: RedisConnection;
  /** A second connection from `connectRedis`, for the blocking XREADGROUP only. */
  readonly blockingRedis: RedisConnection;
  /** Stream and DLQ names (`config.redis`) and retry settings (`config.worker`). */
  readonly config: Config;
  /** Where entries are delivered: `openSink(parseSinkSpec(...))` or your own {@link Sink}. */
  readonly sink: Sink;
  /** This consumer's name in the group; unique per process. */
  readonly consumer: string;
  /** Consumer group. Default `config.worker.group`. */
  readonly group?: string;
  /** Entries handled at once. Default 8. */
  readonly concurrency?: number;
  /** Stop once nothing is new, pending or scheduled for a retry. Default false. */
  readonly drain?: boolean;
  /** After a stop request, how long in-flight handlers may finish. Default 30000. */
  readonly shutdownTimeoutMs?: number;
  /** An entry pending this long on another consumer is taken over. Default 60000. */
  readonly visibilityTimeoutMs?: number;
  /** Metrics and health hooks, e.g. `createWorkerMetrics(...)`. */
  readonly observer?: WorkerObserver;
  /** Structured logger. */
  readonly logger: Logger;
  /** Stops the worker (gracefully) when aborted. */
  readonly signal?: AbortSignal;
}

/** Starts a worker; `done` resolves with its summary once it has stopped. */
export function startWorker(options: WorkerOptions): WorkerHandle {
  return start({
    ...options,
    redis: redisClientOf(options.redis),
    blockingRedis: redisClientOf(options.blockingRedis),
  });
}

/**
 * Runs a worker until `signal` aborts (or, with `drain`, until the stream is
 * handled) and returns its summary.
 *
 * @example
 * ```ts
 * import { connectRedis, createLogger, loadConfig, openSink, parseSinkSpec, runWorker } from "./mod.ts";
 * const config = loadConfig({ env: Deno.env.toObject() });
 * const sink = await openSink(parseSinkSpec("file:/tmp/emails.jsonl"), {
 *   stdout: console.log,
 *   webhookSecret: undefined,
 * });
 * const summary = await runWorker({
 *   redis: await connectRedis(config.redis),
 *   blockingRedis: await connectRedis(config.redis, { name: "ingest:blocking" }),
 *   config,
 *   sink,
 *   consumer: "example-1",
 *   drain: true,
 *   logger: createLogger(),
 * });
 * console.log(summary);
 * ```
 */
export function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  return startWorker(options).done;
}

/** Options of {@link startPartitionedWorker}: a worker's, with one blocking connection per partition. */
export interface PartitionedWorkerOptions extends Omit<WorkerOptions, "blockingRedis"> {
  /** One connection from `connectRedis` per partition (`STREAM_PARTITIONS`), for its blocking read. */
  readonly blockingRedis: readonly RedisConnection[];
}

/**
 * Starts a worker over every partition of `config.redis` (what `ingest work`
 * runs): one loop per partition stream, `concurrency` split over them;
 * `status()` has the totals and a row per partition.
 *
 * @example
 * ```ts
 * import { connectRedis, loadConfig, openSink, parseSinkSpec, startPartitionedWorker } from "./mod.ts";
 * import { createLogger } from "./mod.ts";
 * const config = loadConfig({ env: Deno.env.toObject() });
 * const blockingRedis = [];
 * for (let i = 0; i < config.redis.partitions; i++) {
 *   blockingRedis.push(await connectRedis(config.redis, { name: `ingest:read:${i}` }));
 * }
 * const worker = startPartitionedWorker({
 *   redis: await connectRedis(config.redis),
 *   blockingRedis,
 *   config,
 *   sink: await openSink(parseSinkSpec("file:/tmp/emails.jsonl"), { stdout: console.log, webhookSecret: undefined }),
 *   consumer: "example-1",
 *   drain: true,
 *   logger: createLogger(),
 * });
 * console.log((await worker.done).processed);
 * ```
 */
export function startPartitionedWorker(options: PartitionedWorkerOptions): PartitionedWorkerHandle {
  return startPartitioned({
    ...options,
    redis: redisClientOf(options.redis),
    blockingRedis: options.blockingRedis.map(redisClientOf),
  });
}
