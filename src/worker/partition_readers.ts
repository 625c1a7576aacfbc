/**
 * `ingest work` over every partition of the stream (`STREAM_PARTITIONS`):
 * one {@link startWorker} loop per partition stream, each with its own
 * consumer group (same name, one per stream), its own blocking connection
 * (on a cluster a blocking XREADGROUP holds its connection, and a read of
 * several partitions would be CROSSSLOT), its own retry schedule, attempts,
 * idempotency records and DLQ, all keys of the partition's hash slot.
 *
 * Several worker processes share the partitions through the consumer
 * groups: each reads every partition, and Redis hands each entry to one
 * consumer of the group; a dead process's pending entries are reclaimed per
 * partition by the others (src/worker/claim.ts). With one partition this is
 * exactly the one worker it always was.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { WorkerObserver } from "../observe/events.ts";
import type { RedisClient } from "../redis/client.ts";
import { type StreamPartition, streamPartitionsOf } from "../stream/partition_set.ts";
import {
  combineReadiness,
  combineSummaries,
  combineWorkerStatus,
  type PartitionedWorkerStatus,
} from "./partitioned_status.ts";
import { startWorker } from "./worker.ts";
import { DEFAULT_CONCURRENCY } from "./worker_settings.ts";
import type { WorkerHandle, WorkerOptions, WorkerSummary } from "./worker_types.ts";

export type { PartitionedWorkerStatus, PartitionWorkerStatus } from "./partitioned_status.ts";

/** Options of {@link startPartitionedWorker}: a worker's, with one blocking connection per partition. */
export interface PartitionedWorkerOptions extends Omit<WorkerOptions, "blockingRedis"> {
  /**
   * One connection per partition, for that partition's blocking XREADGROUP
   * only (index i reads partition i); as many as `partitions`.
   */
  blockingRedis: readonly RedisClient[];
  /** The partitions to read. Default: every partition of `config.redis`. */
  partitions?: readonly StreamPartition[];
}

/** A running worker over partitions; `status()` has totals and a row per partition. */
export interface PartitionedWorkerHandle extends WorkerHandle {
  /** Totals as one worker, plus `partitions` rows. */
  status(): PartitionedWorkerStatus;
  /** The partitions read, in index order. */
  readonly partitions: readonly StreamPartition[];
}

/** `config` with one partition's stream and DLQ as the names its worker reads. */
export function partitionConfig(config: Config, partition: StreamPartition): Config {
  return {
    ...config,
    redis: { ...config.redis, streamName: partition.stream, dlqStreamName: partition.dlqStream },
  };
}

/**
 * Starts one worker loop per partition; `done` resolves with their summed
 * summary once every loop stopped (drained, or `signal` aborted).
 * `concurrency` is the process's: split over the partitions (see
 * {@link partitionConcurrency}).
 */
export function startPartitionedWorker(options: PartitionedWorkerOptions): PartitionedWorkerHandle {
  const partitions = options.partitions ?? streamPartitionsOf(options.config.redis);
  if (options.blockingRedis.length !== partitions.length) {
    throw new InvalidArgumentError(
      `Cannot start the worker: ${partitions.length} partitions need as many blocking ` +
        `connections: current value is ${options.blockingRedis.length}`,
    );
  }
  const observers = partitionObservers(options.observer, partitions.length);
  const handles = partitions.map((partition, i) =>
    startWorker({
      ...options,
      config: partitionConfig(options.config, partition),
      concurrency: partitionConcurrency(
        options.concurrency ?? DEFAULT_CONCURRENCY,
        partitions.length,
      ),
      blockingRedis: options.blockingRedis[i]!,
      logger: partitions.length > 1
        ? options.logger.child({ partition: partition.index })
        : options.logger,
      observer: observers[i],
    })
  );
  const done: Promise<WorkerSummary> = Promise.all(handles.map((h) => h.done)).then(
    combineSummaries,
  );
  return {
    partitions,
    status: () =>
      combineWorkerStatus(
        options.config.redis.streamName,
        handles.map((h, i) => ({ ...h.status(), partition: partitions[i]!.index })),
      ),
    ready: async () => combineReadiness(await Promise.all(handles.map((h) => h.ready()))),
    done,
  };
}

/**
 * Each partition loop's share of the process's `concurrency`: an even split,
 * rounded up, at least 1, so `WORKER_CONCURRENCY` bounds what one process
 * hands its sink at once (within N - 1) whatever the partition count.
 * Measured (scripts/bench_cluster.ts --only worker): 6 loops of 64 each
 * were slower than 6 of 16 on one node (5,900 vs 11,800 entries/s).
 */
export function partitionConcurrency(concurrency: number, partitions: number): number {
  return Math.max(1, Math.ceil(concurrency / partitions));
}

/**
 * Each partition's observer: events pass through, except the two that are
 * one value for the process: `unsettled` reports the sum over partitions,
 * and `heartbeat` fires once every partition's loop has run since the last
 * one (so the heartbeat gauge goes stale when any partition's loop sticks).
 */
export function partitionObservers(
  outer: WorkerObserver | undefined,
  count: number,
): WorkerObserver[] {
  if (outer === undefined) return Array.from({ length: count }, () => ({}));
  const unsettled = new Array<number>(count).fill(0);
  const beaten = new Set<number>();
  return unsettled.map((_, i): WorkerObserver => ({
    handled: (outcome, seconds, endToEnd) => outer.handled?.(outcome, seconds, endToEnd),
    failed: (reason) => outer.failed?.(reason),
    reclaimed: (n) => outer.reclaimed?.(n),
    settleRefused: (reason) => outer.settleRefused?.(reason),
    heartbeat: () => {
      beaten.add(i);
      if (beaten.size < count) return;
      beaten.clear();
      outer.heartbeat?.();
    },
    unsettled: (n) => {
      unsettled[i] = n;
      outer.unsettled?.(unsettled.reduce((a, b) => a + b, 0));
    },
  }));
}
