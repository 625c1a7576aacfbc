/**
 * `ingest work`'s core: reads the stream through a consumer group and hands
 * each entry to a {@link Sink}, at least once, never twice after success.
 * The worker keeps the read loop, the concurrency limit and the shutdown;
 * the parts: {@link ConsumerGroup} (every command about the group: read,
 * claim and settle scripts, attempts, XINFO), {@link EntryHandler} (one entry
 * to its outcome: sink, acknowledge, retry, DLQ), {@link Maintenance} (due
 * retries, stalled entries, leases, pruning on named cadences),
 * {@link Settlements} (settles Redis refuses are retried with the entry kept
 * in hand, and no new work is taken meanwhile), {@link InFlightEntries} and
 * {@link ReadWakeup} (ends a blocking read when a retry falls due).
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { describeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { WorkerObserver } from "../observe/events.ts";
import { isMissingKeyError } from "../redis/reply.ts";
import { describeRedisFailure } from "../redis/redis_failure.ts";
import { backoffDelay, sleep } from "../retry/backoff.ts";
import { type ClaimedEntry, ConsumerGroup } from "./consumer_group.ts";
import { EntryHandler } from "./entry_handler.ts";
import { FatalFailure } from "./fatal_failure.ts";
import { InFlightEntries } from "./in_flight.ts";
import { groupKeys } from "./group_keys.ts";
import { Maintenance, maintenanceCadences } from "./maintenance.ts";
import { extendLeases, workerChores } from "./chores.ts";
import { ReadWakeup } from "./read_wakeup.ts";
import { workerReadiness } from "./readiness.ts";
import { reportingSettlements, reportSettleFailure } from "./settle_reporting.ts";
import type { Settlements } from "./settlements.ts";
import { workerStatusView } from "./status_view.ts";
import {
  ABORT_GRACE_MS,
  MIN_TICK_MS,
  type WorkerSettings,
  workerSettings,
} from "./worker_settings.ts";
import {
  emptyCounts,
  type WorkerCounts,
  type WorkerHandle,
  type WorkerOptions,
  type WorkerReadiness,
  type WorkerState,
  type WorkerStatus,
  type WorkerSummary,
} from "./worker_types.ts";

/** The worker's public shapes (options, status, readiness, summary). */
export type * from "./worker_types.ts";

/** Starts a worker; see {@link WorkerHandle}. */
export function startWorker(options: WorkerOptions): WorkerHandle {
  const worker = new Worker(options);
  const done = worker.run();
  return { status: () => worker.status(), ready: () => worker.ready(), done };
}

/** Runs a worker until it drains or `options.signal` aborts. */
export function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  return startWorker(options).done;
}

class Worker {
  readonly #o: WorkerOptions;
  readonly #group: ConsumerGroup;
  readonly #log: Logger;
  readonly #observer: WorkerObserver;
  readonly #now: () => number;
  readonly #signal: AbortSignal;
  readonly #settings: WorkerSettings;
  /** Aborted when in-flight handlers run past the shutdown timeout. */
  readonly #handlers = new AbortController();
  readonly #inFlight: InFlightEntries;
  readonly #settlements: Settlements;
  readonly #maintenance: Maintenance;
  readonly #entries: EntryHandler;
  /** A failure no retry mends (NOPERM): the worker stops and `done` rejects with it. */
  readonly #fatal: FatalFailure;
  readonly #counts: WorkerCounts = emptyCounts();
  readonly #startedAt: number;
  #state: WorkerState = "starting";
  #lastBeat: number | undefined;
  #lastError: string | null = null;
  #wake: (() => void) | undefined;
  /** Ends a blocking read early when a retry falls due before it would time out. */
  readonly #readWakeup: ReadWakeup;

  constructor(options: WorkerOptions) {
    this.#o = options;
    this.#settings = workerSettings(options);
    const { config } = options;
    const group = options.group ?? config.worker.group;
    const keys = groupKeys(config.redis.streamName, group, config.redis.dlqStreamName);
    this.#group = new ConsumerGroup({ ...options, keys });
    this.#readWakeup = new ReadWakeup(options.redis, options.blockingRedis, options.now);
    this.#log = options.logger.child({ component: "worker", group, consumer: options.consumer });
    this.#observer = options.observer ?? {};
    this.#now = options.now ?? Date.now;
    this.#signal = options.signal ?? new AbortController().signal;
    this.#startedAt = this.#now();
    this.#fatal = new FatalFailure(config.redis, this.#log);
    this.#settlements = reportingSettlements({
      signal: this.#handlers.signal,
      logger: this.#log,
      observer: this.#observer,
      setLastError: (error) => (this.#lastError = error),
      wake: () => this.#wake?.(),
      now: this.#now,
      random: options.random,
    });
    this.#inFlight = new InFlightEntries({
      handle: (entries, listener) => this.#entries.handleMany(entries, listener),
      onFailed: (id, error) =>
        this.#fatal.note(error, "settle of a handled entry") ||
        (this.#lastError = reportSettleFailure(this.#log, id, error)),
      onFinished: () => this.#wake?.(),
      now: this.#now,
    });
    this.#maintenance = this.#createMaintenance();
    this.#entries = this.#createEntryHandler();
  }

  status(): WorkerStatus {
    return workerStatusView({
      state: this.#state,
      stream: this.#group.keys.stream,
      group: this.#group.keys.group,
      consumer: this.#o.consumer,
      sink: this.#o.sink.kind,
      concurrency: this.#settings.concurrency,
      inFlight: this.#inFlight.size,
      unsettled: this.#settlements.waiting,
      counts: { ...this.#counts },
      startedAt: this.#startedAt,
      lastBeat: this.#lastBeat,
      lastError: this.#lastError,
    });
  }

  ready(): Promise<WorkerReadiness> {
    const facts = {
      state: this.#state,
      unsettled: this.#settlements.describe(),
      heartbeatAgeMs: this.#lastBeat === undefined ? undefined : this.#now() - this.#lastBeat,
      blockMs: this.#settings.blockMs,
    };
    return workerReadiness(facts, this.#group.keys.group, () => this.#group.exists());
  }

  async run(): Promise<WorkerSummary> {
    let stoppedBy: "drain" | "signal" = "signal";
    let failures = 0;
    const onAbort = () => this.#wake?.();
    this.#signal.addEventListener("abort", onAbort, { once: true });
    try {
      const idleRead = { value: false };
      while (!this.#signal.aborted && !this.#fatal.stopping) {
        try {
          const turn = await this.#iteration(idleRead);
          if (turn === "drained") {
            stoppedBy = "drain";
            break;
          }
          if (turn === "waited") continue; // nothing read: keep the error settles reported
          failures = 0;
          this.#lastError = null;
        } catch (error) {
          if (this.#signal.aborted || this.#fatal.note(error, "worker's command")) break;
          await this.#loopFailed(error, failures++);
        }
      }
    } finally {
      this.#signal.removeEventListener("abort", onAbort);
    }
    return this.#fatal.check(await this.#stop(stoppedBy));
  }

  /**
   * One turn of the loop: maintenance, then a read of new entries when
   * handlers are free (`read`), or a wait for one to finish (`waited`).
   */
  async #iteration(idleRead: { value: boolean }): Promise<"drained" | "waited" | "read"> {
    if (this.#state === "starting") {
      await this.#group.ensure();
      const { processedTtlSeconds } = this.#o.config.worker;
      const count = await this.#group.moveLegacyRecords(processedTtlSeconds * 1000);
      if (count > 0) this.#log.info("moved release 0.1.0's processed-records", { count });
      await this.#readWakeup.start();
      this.#state = "running";
      this.#log.info("worker started", { sink: this.#o.sink.kind });
    }
    this.#lastBeat = this.#now();
    this.#observer.heartbeat?.();
    await this.#maintenance.run();
    if (this.#free() === 0 || (idleRead.value && this.#inFlight.size > 0)) {
      idleRead.value = false;
      if (!this.#signal.aborted) await this.#waitForWake(this.#settings.blockMs);
      // Let all handlers settled by one reply finish: the next read then fetches a batch.
      await new Promise((resolve) => setImmediate(resolve));
      return "waited";
    }
    const read = await this.#readNew(Math.min(this.#free(), this.#settings.readBatch));
    idleRead.value = read === 0;
    if (read === 0 && this.#inFlight.size === 0 && this.#o.drain) {
      if (await this.#group.settled()) return "drained";
      await this.#waitForWake(this.#untilNextDue());
    }
    return "read";
  }

  async #loopFailed(error: unknown, failures: number): Promise<void> {
    this.#lastError = describeRedisFailure(error);
    const delay = backoffDelay(failures, { baseMs: 100, capMs: 5_000 });
    this.#log.error("worker loop failed; retrying", {
      error: this.#lastError,
      retry_in_ms: delay,
    });
    if (isMissingKeyError(error)) this.#state = "starting"; // group or stream deleted
    this.#maintenance.afterRedisFailure();
    await sleep(delay, this.#signal).catch(() => {});
  }

  async #stop(stoppedBy: "drain" | "signal"): Promise<WorkerSummary> {
    this.#state = "stopping";
    const abandoned = await this.#finishInFlight();
    if (abandoned === 0) {
      await this.#group.leave().catch((error) =>
        this.#log.debug("could not leave the group", { error: describeError(error) })
      );
    }
    this.#state = "stopped";
    const summary: WorkerSummary = { ...this.#counts, stoppedBy, abandoned };
    this.#log.info("worker stopped", { ...summary });
    return summary;
  }

  /** Handlers that may start now: none while a settle waits for Redis. */
  #free(): number {
    if (this.#settlements.waiting > 0) return 0;
    return Math.max(0, this.#settings.capacity - this.#inFlight.size);
  }

  #createMaintenance(): Maintenance {
    return new Maintenance({
      cadences: maintenanceCadences(this.#settings.visibilityMs, this.#o.consumerIdleTimeoutMs),
      now: this.#now,
      chores: workerChores({
        group: this.#group,
        inFlight: this.#inFlight,
        free: () => this.#free(),
        counts: this.#counts,
        observer: this.#observer,
        logger: this.#log,
        visibilityMs: this.#settings.visibilityMs,
        consumerIdleTimeoutMs: this.#o.consumerIdleTimeoutMs,
      }),
    });
  }

  #createEntryHandler(): EntryHandler {
    return new EntryHandler({
      group: this.#group,
      sink: this.#o.sink,
      settlements: this.#settlements,
      config: this.#o.config,
      counts: this.#counts,
      observer: this.#observer,
      logger: this.#log,
      signal: this.#handlers.signal,
      now: this.#now,
      random: this.#o.random,
      sinkCalls: this.#settings.concurrency,
      onRetryScheduled: (dueAt) => {
        this.#maintenance.retryScheduled(dueAt);
        this.#readWakeup.dueAt(dueAt);
      },
    });
  }

  /** Reads, dispatches up to `count` new entries (≤ the read batch: reads overlap); returns how many. */
  async #readNew(count: number): Promise<number> {
    // Drain mode never blocks: "nothing new" must be seen at once.
    const block = this.#o.drain ? undefined : this.#untilNextDue();
    if (block !== undefined) {
      this.#readWakeup.reading(this.#now() + block, this.#maintenance.nextDue);
    }
    let entries: ClaimedEntry[];
    try {
      entries = await this.#group.readNew(count, block);
    } finally {
      this.#readWakeup.finished();
    }
    this.#inFlight.dispatch(entries);
    return entries.length;
  }

  /** Ms to wait before the next loop iteration: the block time, or less when a retry is due sooner. */
  #untilNextDue(): number {
    const nextDue = this.#maintenance.nextDue;
    if (nextDue === undefined) return this.#settings.blockMs;
    return Math.max(MIN_TICK_MS, Math.min(this.#settings.blockMs, nextDue - this.#now()));
  }

  /** Sleeps `ms`, ending early when a handler finishes (or, in the loop, on a stop request). */
  #waitForWake(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  /** Waits for in-flight handlers up to the shutdown timeout; returns how many were abandoned. */
  async #finishInFlight(): Promise<number> {
    const timeoutMs = this.#settings.shutdownTimeoutMs;
    const deadline = this.#now() + timeoutMs;
    if (this.#inFlight.size > 0) {
      this.#log.info("waiting for in-flight handlers", {
        in_flight: this.#inFlight.size,
        timeout_ms: timeoutMs,
      });
    }
    while (this.#inFlight.size > 0 && this.#now() < deadline) {
      await this.#waitForWake(Math.max(MIN_TICK_MS, Math.min(1_000, deadline - this.#now())));
      // Keep long handlers' entries from being taken over while we wait.
      const everyMs = this.#settings.visibilityMs / 3;
      await extendLeases(this.#group, this.#inFlight, this.#now(), everyMs).catch(() => {});
    }
    const abandoned = this.#inFlight.size;
    if (abandoned > 0) {
      this.#log.warn(
        "shutdown timeout: abandoning in-flight handlers; their entries stay pending",
        { abandoned },
      );
      this.#handlers.abort(new DOMException("worker shutdown timeout", "AbortError"));
      const grace = this.#now() + ABORT_GRACE_MS;
      while (this.#inFlight.size > 0 && this.#now() < grace) await this.#waitForWake(100);
    }
    return abandoned;
  }
}
