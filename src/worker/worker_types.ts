/**
 * The public shapes of `ingest work`'s core: worker options, counters, the
 * summary of a run, the `/status` and `/ready` views, and the handle of a
 * running worker.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import type { WorkerObserver } from "../observe/events.ts";
import type { Sink } from "../sinks/sink.ts";

/** Options of {@link startWorker}; durations in ms. */
export interface WorkerOptions {
  /** Connection for every command but the blocking read. */
  redis: RedisClient;
  /** Connection for the blocking XREADGROUP only. */
  blockingRedis: RedisClient;
  /** Stream and DLQ names (`config.redis`) and retry settings (`config.worker`). */
  config: Config;
  /** Where entries are delivered. */
  sink: Sink;
  /** This consumer's name in the group; unique per process. */
  consumer: string;
  /** Consumer group. Default `config.worker.group`. */
  group?: string;
  /** Sink calls at once. Default 8. */
  concurrency?: number;
  /**
   * Entries read ahead of the sink calls: read, decoded and checked while
   * earlier ones are in the sink, handed to it as places free up (see
   * docs/WORKER_PROFILE.md for what a shutdown or a crash leaves pending).
   * Default 0: read only when a sink call is free.
   */
  readAhead?: number;
  /** Stop once nothing is new, pending or scheduled for a retry. Default false. */
  drain?: boolean;
  /** After a stop request, how long in-flight handlers may finish. Default 30000. */
  shutdownTimeoutMs?: number;
  /** An entry pending this long on another consumer is taken over. Default 60000. */
  visibilityTimeoutMs?: number;
  /** Consumers idle this long with nothing pending are removed. Default 3600000 (1 h). */
  consumerIdleTimeoutMs?: number;
  /** Longest blocking read; also the loop's tick. Default 1000. */
  blockMs?: number;
  /** Metrics and health hooks. */
  observer?: WorkerObserver;
  /** Structured logger. */
  logger: Logger;
  /** Stops the worker (gracefully) when aborted. */
  signal?: AbortSignal;
  /** Clock in ms, for tests. Default `Date.now`. */
  now?: () => number;
  /** Jitter source of the backoff, for tests. Default `Math.random`. */
  random?: () => number;
}

/** Counters of one run. */
export interface WorkerCounts {
  /** Delivered and acknowledged. */
  processed: number;
  /** Acknowledged without calling the sink (already processed). */
  duplicates: number;
  /** Failures scheduled for a retry. */
  retriesScheduled: number;
  /** Moved to the DLQ. */
  deadLettered: number;
  /** Taken over from stalled consumers. */
  reclaimed: number;
}

/** Counts of a run that has not handled anything yet. */
export function emptyCounts(): WorkerCounts {
  return { processed: 0, duplicates: 0, retriesScheduled: 0, deadLettered: 0, reclaimed: 0 };
}

/** What a finished run did. */
export interface WorkerSummary extends WorkerCounts {
  /** `drain`: nothing left to do; `signal`: asked to stop. */
  readonly stoppedBy: "drain" | "signal";
  /** In-flight entries whose handlers did not finish within the shutdown timeout (left pending). */
  readonly abandoned: number;
}

/** Lifecycle of a worker. */
export type WorkerState = "starting" | "running" | "stopping" | "stopped";

/** {@link WorkerCounts} as `/status` shows them (snake_case). */
export interface WorkerCountsView {
  /** Delivered and acknowledged. */
  readonly processed: number;
  /** Acknowledged without calling the sink (already processed). */
  readonly duplicates: number;
  /** Failures scheduled for a retry. */
  readonly retries_scheduled: number;
  /** Moved to the DLQ. */
  readonly dead_lettered: number;
  /** Taken over from stalled consumers. */
  readonly reclaimed: number;
}

/** A snapshot for `/status`: JSON as it is served, snake_case keys. */
export interface WorkerStatus {
  /** Lifecycle state. */
  readonly state: WorkerState;
  /** The stream read. */
  readonly stream: string;
  /** The consumer group. */
  readonly group: string;
  /** This consumer's name in the group. */
  readonly consumer: string;
  /** Sink kind (e.g. `file`). */
  readonly sink: string;
  /** Handlers allowed in flight. */
  readonly concurrency: number;
  /** Handlers in flight now (settles waiting for Redis included). */
  readonly in_flight: number;
  /** Entries whose settle Redis refused and that wait for a retry; above 0 no new work is taken. */
  readonly unsettled: number;
  /** Entries handled so far, by outcome. */
  readonly counts: WorkerCountsView;
  /** ISO time the worker started. */
  readonly started_at: string;
  /** ISO time of the read loop's last iteration, `null` before the first. */
  readonly last_heartbeat_at: string | null;
  /** The loop's last error, cleared by the next successful iteration. */
  readonly last_error: string | null;
}

/** One readiness check's verdict. */
export interface WorkerCheck {
  /** Whether the check passed. */
  readonly ok: boolean;
  /** Why not, when it failed. */
  readonly detail?: string;
}

/** The verdict for `/ready`: the loop is alive and the group answers. */
export interface WorkerReadiness {
  /** Whether the loop is alive and the group reachable. */
  readonly ready: boolean;
  /** The two checks behind `ready`. */
  readonly checks: { readonly loop: WorkerCheck; readonly group: WorkerCheck };
}

/** A running worker. */
export interface WorkerHandle {
  /** Current status (JSON-friendly, for `/status`). */
  status(): WorkerStatus;
  /** Loop not stuck (heartbeat recent, not stopping) and the group exists in Redis. */
  ready(): Promise<WorkerReadiness>;
  /**
   * Resolves when the worker has stopped; rejects with a `REDIS_NOPERM`
   * RedisError when the Redis ACL refused a command it needs (it stops then,
   * see src/worker/fatal_failure.ts), otherwise only on a bug.
   */
  readonly done: Promise<WorkerSummary>;
}
