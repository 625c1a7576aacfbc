/**
 * `ingest work`'s core: reads the stream through a consumer group and hands
 * each entry to a {@link Sink}, at least once, never twice after success.
 *
 * - New entries come from a blocking XREADGROUP on a connection of its own
 *   (BLOCK ≤ 1 s, so a stop request is seen promptly).
 * - Success: processed-record + XACK in one script; an entry whose
 *   idempotency key already has a record is acknowledged without a sink call.
 * - Failure: the attempt is recorded and the entry scheduled for a retry in
 *   Redis (ZSET by due time) while it stays pending in the group; no handler
 *   sleeps. Due retries are claimed by whichever worker sees them first, so
 *   the schedule survives restarts. After the last attempt, or on a permanent
 *   error, the entry moves to the DLQ (XADD + XACK in one script). Entries
 *   that cannot be decoded go to the DLQ as `malformed`.
 * - Entries stalled on a consumer that stopped are claimed after the
 *   visibility timeout; one delivered more than `maxAttempts` times (a poison
 *   message that kills its workers) goes to the DLQ as `poison`. A worker
 *   keeps its own slow handlers' entries from looking stalled by re-touching
 *   them, so two workers do not run the same entry at once.
 * - Redis refusing a settle (full with `noeviction`, down, loading): the
 *   outcome is kept in memory and the settle retried ({@link Settlements});
 *   the entry stays in this worker's hands (leases renewed, never reclaimed by
 *   itself) and no new work is taken until settles go through, so a handler
 *   that succeeded is not run again while this worker lives.
 * - The attempt number handed to a sink counts every earlier delivery, also
 *   runs whose worker died or could not record their outcome.
 * - Consumers idle for long with nothing pending are removed from the group.
 *
 * @module
 */

import type { Redis } from "ioredis";
import type { Config } from "../config/config.ts";
import type { DeadLetterReason } from "../dlq/dead_letter.ts";
import { describeError } from "../errors.ts";
import { withDeadline } from "../async/deadline.ts";
import type { Logger } from "../log/logger.ts";
import type { WorkerObserver } from "../observe/events.ts";
import { ensureGroup } from "../stream/group.ts";
import { entryFields, isMissingKeyError, pairsToObject } from "../redis/reply.ts";
import { backoffDelay, sleep } from "../retry/backoff.ts";
import { ReadWakeup } from "./read_wakeup.ts";
import { type DecodedEntry, decodeEntry, type EmailPayload } from "../stream/entry.ts";
import { isPermanentFailure, type Sink } from "../sinks/sink.ts";
import { describeRedisFailure } from "../redis/redis_failure.ts";
import { attemptNumber, type AttemptRecord, decodeAttempts, nextAttempt } from "./attempts.ts";
import {
  type ClaimedEntry,
  extendLeases,
  leaveGroup,
  nextRetryDue,
  pruneIdleConsumers,
  reclaimStalled,
  takeDueRetries,
} from "./claim.ts";
import { type GroupKeys, groupKeys } from "./group_keys.ts";
import { acknowledgeDuplicate, acknowledgeProcessed, deadLetter, scheduleRetry } from "./settle.ts";
import { SettleAbandonedError, Settlements } from "./settlements.ts";

/** Options of {@link startWorker}; durations in ms. */
export interface WorkerOptions {
  /** Connection for every command but the blocking read. */
  redis: Redis;
  /** Connection for the blocking XREADGROUP only. */
  blockingRedis: Redis;
  /** Stream and DLQ names (`config.redis`) and retry settings (`config.worker`). */
  config: Config;
  /** Where entries are delivered. */
  sink: Sink;
  /** This consumer's name in the group; unique per process. */
  consumer: string;
  /** Consumer group. Default `config.worker.group`. */
  group?: string;
  /** Entries handled at once. Default 8. */
  concurrency?: number;
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

/** What a finished run did. */
export interface WorkerSummary extends WorkerCounts {
  /** `drain`: nothing left to do; `signal`: asked to stop. */
  readonly stoppedBy: "drain" | "signal";
  /** In-flight entries whose handlers did not finish within the shutdown timeout (left pending). */
  readonly abandoned: number;
}

/** Lifecycle of a worker. */
export type WorkerState = "starting" | "running" | "stopping" | "stopped";

/** A snapshot for `/status`. */
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
  readonly inFlight: number;
  /** Entries whose settle Redis refused and that wait for a retry; above 0 no new work is taken. */
  readonly unsettled: number;
  /** Entries handled so far, by outcome. */
  readonly counts: Readonly<WorkerCounts>;
  /** ISO time the worker started. */
  readonly startedAt: string;
  /** ISO time of the read loop's last iteration, `null` before the first. */
  readonly lastHeartbeatAt: string | null;
  /** The loop's last error, cleared by the next successful iteration. */
  readonly lastError: string | null;
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
  /** Resolves when the worker has stopped; rejects only on a bug. */
  readonly done: Promise<WorkerSummary>;
}

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

/** An entry the worker is handling. */
interface InFlight {
  readonly startedAt: number;
  touchedAt: number;
}

const MIN_TICK_MS = 10;
/** Longer than the reconnect backoff cap of src/redis/connection.ts (5 s). */
const RECONNECT_GRACE_MS = 6_000;

class Worker {
  readonly #o: WorkerOptions;
  readonly #keys: GroupKeys;
  readonly #log: Logger;
  readonly #observer: WorkerObserver;
  readonly #now: () => number;
  readonly #signal: AbortSignal;
  readonly #concurrency: number;
  readonly #visibilityMs: number;
  readonly #blockMs: number;
  readonly #maxAttempts: number;
  /** Aborted when in-flight handlers run past the shutdown timeout. */
  readonly #handlers = new AbortController();
  readonly #inFlight = new Map<string, InFlight>();
  readonly #claimedAgain = new Map<string, ClaimedEntry>();
  readonly #settlements: Settlements;
  readonly #counts: WorkerCounts = {
    processed: 0,
    duplicates: 0,
    retriesScheduled: 0,
    deadLettered: 0,
    reclaimed: 0,
  };
  readonly #startedAt: number;
  #state: WorkerState = "starting";
  #lastBeat: number | undefined;
  #lastError: string | null = null;
  #wake: (() => void) | undefined;
  #nextDue: number | undefined;
  #dueCheckedAt = 0;
  #stalledCheckedAt = 0;
  #stalledStart = "-";
  #leasesCheckedAt = 0;
  #prunedAt = 0;
  /** Ends a blocking read early when a retry falls due before it would time out. */
  readonly #readWakeup: ReadWakeup;

  constructor(options: WorkerOptions) {
    this.#o = options;
    this.#readWakeup = new ReadWakeup(options.redis, options.blockingRedis, options.now);
    const group = options.group ?? options.config.worker.group;
    this.#keys = groupKeys(
      options.config.redis.streamName,
      group,
      options.config.redis.dlqStreamName,
    );
    this.#log = options.logger.child({ component: "worker", group, consumer: options.consumer });
    this.#observer = options.observer ?? {};
    this.#now = options.now ?? Date.now;
    this.#signal = options.signal ?? new AbortController().signal;
    this.#concurrency = options.concurrency ?? 8;
    this.#visibilityMs = options.visibilityTimeoutMs ?? 60_000;
    // The loop must come round often enough to touch slow handlers' entries
    // (every third of the visibility timeout) and to see a stop request.
    this.#blockMs = Math.max(
      MIN_TICK_MS,
      Math.min(options.blockMs ?? 1_000, 2_000, Math.floor(this.#visibilityMs / 3)),
    );
    this.#maxAttempts = options.config.worker.maxAttempts;
    this.#startedAt = this.#now();
    this.#settlements = this.#createSettlements();
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) {
      throw new RangeError(
        `Cannot start the worker: concurrency must be a whole number >= 1, current value is ${this.#concurrency}`,
      );
    }
  }

  status(): WorkerStatus {
    return {
      state: this.#state,
      stream: this.#keys.stream,
      group: this.#keys.group,
      consumer: this.#o.consumer,
      sink: this.#o.sink.kind,
      concurrency: this.#concurrency,
      inFlight: this.#inFlight.size,
      unsettled: this.#settlements.waiting,
      counts: { ...this.#counts },
      startedAt: new Date(this.#startedAt).toISOString(),
      lastHeartbeatAt: this.#lastBeat === undefined ? null : new Date(this.#lastBeat).toISOString(),
      lastError: this.#lastError,
    };
  }

  async ready(): Promise<WorkerReadiness> {
    const staleAfter = Math.max(10_000, 5 * this.#blockMs);
    const age = this.#lastBeat === undefined ? undefined : this.#now() - this.#lastBeat;
    const unsettled = this.#settlements.describe();
    const loop: WorkerCheck = this.#state !== "running"
      ? { ok: false, detail: `worker is ${this.#state}` }
      : unsettled !== undefined
      ? { ok: false, detail: unsettled }
      : age === undefined || age > staleAfter
      ? { ok: false, detail: `read loop last ran ${age ?? "never"} ms ago` }
      : { ok: true };
    let group: WorkerCheck;
    try {
      const groups = await withDeadline(
        this.#o.redis.xinfo("GROUPS", this.#keys.stream) as Promise<unknown[]>,
        2_000,
        "XINFO GROUPS",
      );
      const found = groups.some((g) => pairsToObject(g).name === this.#keys.group);
      group = found
        ? { ok: true }
        : { ok: false, detail: `group ${this.#keys.group} does not exist` };
    } catch (error) {
      group = { ok: false, detail: describeError(error) };
    }
    return { ready: loop.ok && group.ok, checks: { loop, group } };
  }

  async run(): Promise<WorkerSummary> {
    let stoppedBy: "drain" | "signal" = "signal";
    let failures = 0;
    let idleRead = false;
    const onAbort = () => this.#wake?.();
    this.#signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (!this.#signal.aborted) {
        try {
          if (this.#state === "starting") {
            await ensureGroup(this.#o.redis, this.#keys.stream, this.#keys.group);
            await this.#readWakeup.start();
            this.#state = "running";
            this.#log.info("worker started", { sink: this.#o.sink.kind });
          }
          this.#heartbeat();
          await this.#maintain();
          if (this.#free() === 0 || (idleRead && this.#inFlight.size > 0)) {
            idleRead = false;
            if (this.#signal.aborted) break;
            await this.#waitForWake(this.#blockMs);
            continue;
          }
          const read = await this.#readNew(this.#concurrency - this.#inFlight.size);
          idleRead = read === 0;
          if (read === 0 && this.#inFlight.size === 0 && this.#o.drain) {
            if (await this.#groupSettled()) {
              stoppedBy = "drain";
              break;
            }
            await this.#waitForWake(this.#untilNextDue());
          }
          failures = 0;
          this.#lastError = null;
        } catch (error) {
          if (this.#signal.aborted) break;
          this.#lastError = describeRedisFailure(error);
          const delay = backoffDelay(failures++, { baseMs: 100, capMs: 5_000 });
          this.#log.error("worker loop failed; retrying", {
            error: this.#lastError,
            retry_in_ms: delay,
          });
          if (isMissingKeyError(error)) this.#state = "starting"; // group or stream deleted
          // Entries' idle times kept growing while Redis failed: renew this worker's
          // leases first, and reclaim others' entries only after their owners had
          // time to reconnect and renew theirs.
          this.#leasesCheckedAt = 0;
          this.#stalledCheckedAt = this.#now() +
            Math.max(this.#visibilityMs / 3, RECONNECT_GRACE_MS);
          await sleep(delay, this.#signal).catch(() => {});
        }
      }
    } finally {
      this.#signal.removeEventListener("abort", onAbort);
    }
    this.#state = "stopping";
    const abandoned = await this.#finishInFlight();
    if (abandoned === 0) {
      await leaveGroup(this.#o.redis, this.#keys, this.#o.consumer).catch((error) =>
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
    return Math.max(0, this.#concurrency - this.#inFlight.size);
  }

  #createSettlements(): Settlements {
    return new Settlements({
      signal: this.#handlers.signal,
      random: this.#o.random,
      now: this.#now,
      onBlocked: (id, error) => {
        this.#lastError = error;
        this.#log.error("cannot settle entries: not taking new work until Redis accepts them", {
          id,
          error,
        });
      },
      onWaitingChanged: (count) => this.#observer.unsettled?.(count),
      onRefused: (id, error, tries, retryInMs, kind) => {
        this.#lastError = error;
        this.#observer.settleRefused?.(kind);
        if (tries === 1 || tries % 10 === 0) {
          this.#log.warn("settle refused; retrying", { id, tries, retry_in_ms: retryInMs });
        }
      },
      onUnblocked: (blockedMs, settled) => {
        this.#lastError = null;
        this.#log.info("entries settled again: taking new work", {
          blocked_ms: blockedMs,
          settled,
        });
        this.#wake?.();
      },
    });
  }

  #heartbeat(): void {
    this.#lastBeat = this.#now();
    this.#observer.heartbeat?.();
  }

  /** Claims due retries and stalled entries, extends leases, prunes consumers, each on its own cadence. */
  async #maintain(): Promise<void> {
    const now = this.#now();
    const free = () => this.#free();
    if (now - this.#dueCheckedAt >= 200 || (this.#nextDue !== undefined && now >= this.#nextDue)) {
      this.#dueCheckedAt = now;
      if (free() > 0) {
        const due = await takeDueRetries(
          this.#o.redis,
          this.#keys,
          this.#o.consumer,
          now,
          free(),
        );
        for (const entry of due) this.#dispatch(entry);
      }
      this.#nextDue = await nextRetryDue(this.#o.redis, this.#keys);
    }
    if (now - this.#stalledCheckedAt >= Math.max(200, Math.min(this.#visibilityMs / 2, 5_000))) {
      this.#stalledCheckedAt = now;
      if (free() > 0) await this.#reclaimStalled(free());
    }
    if (now - this.#leasesCheckedAt >= this.#visibilityMs / 3) {
      this.#leasesCheckedAt = now;
      await this.#extendLeases(now);
    }
    const pruneEvery = Math.min(60_000, (this.#o.consumerIdleTimeoutMs ?? 3_600_000) / 2);
    if (now - this.#prunedAt >= pruneEvery) {
      this.#prunedAt = now;
      const removed = await pruneIdleConsumers(
        this.#o.redis,
        this.#keys,
        this.#o.consumer,
        this.#o.consumerIdleTimeoutMs ?? 3_600_000,
      );
      if (removed.length > 0) this.#log.info("removed idle consumers", { consumers: removed });
    }
  }

  async #reclaimStalled(count: number): Promise<void> {
    const pass = await reclaimStalled(
      this.#o.redis,
      this.#keys,
      this.#o.consumer,
      this.#visibilityMs,
      count,
      this.#stalledStart,
      [...this.#inFlight.keys()],
    );
    this.#stalledStart = pass.nextStart;
    if (pass.claimed.length === 0) return;
    this.#counts.reclaimed += pass.claimed.length;
    this.#observer.reclaimed?.(pass.claimed.length);
    this.#log.info("reclaimed stalled entries", {
      count: pass.claimed.length,
      ids: pass.claimed.map((e) => e.id),
    });
    for (const entry of pass.claimed) this.#dispatch(entry);
  }

  async #extendLeases(now: number): Promise<void> {
    const due = [...this.#inFlight].filter(([, f]) => now - f.touchedAt >= this.#visibilityMs / 3);
    if (due.length === 0) return;
    await extendLeases(this.#o.redis, this.#keys, this.#o.consumer, due.map(([id]) => id));
    for (const [, flight] of due) flight.touchedAt = now;
  }

  /** Reads up to `count` new entries and dispatches them; returns how many. */
  async #readNew(count: number): Promise<number> {
    const args: (string | number)[] = ["GROUP", this.#keys.group, this.#o.consumer, "COUNT", count];
    // Drain mode never blocks: "nothing new" must be seen at once.
    const block = this.#untilNextDue();
    if (!this.#o.drain) {
      args.push("BLOCK", block);
      this.#readWakeup.reading(this.#now() + block, this.#nextDue);
    }
    let reply: [string, [string, string[]][]][] | null;
    try {
      reply = await this.#o.blockingRedis.call(
        "XREADGROUP",
        ...args,
        "STREAMS",
        this.#keys.stream,
        ">",
      ) as [string, [string, string[]][]][] | null;
    } finally {
      this.#readWakeup.finished();
    }
    const entries = reply?.[0]?.[1] ?? [];
    for (const [id, fields] of entries) {
      this.#dispatch({ id, fields, deliveries: 1, attempts: undefined });
    }
    return entries.length;
  }

  /** Ms to wait before the next loop iteration: the block time, or less when a retry is due sooner. */
  #untilNextDue(): number {
    if (this.#nextDue === undefined) return this.#blockMs;
    return Math.max(MIN_TICK_MS, Math.min(this.#blockMs, this.#nextDue - this.#now()));
  }

  /** Whether the group has nothing pending (in flight anywhere or scheduled for a retry). */
  async #groupSettled(): Promise<boolean> {
    const summary = await this.#o.redis.xpending(this.#keys.stream, this.#keys.group) as [
      number,
      ...unknown[],
    ];
    return Number(summary[0]) === 0;
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

  #dispatch(entry: ClaimedEntry): void {
    if (this.#inFlight.has(entry.id)) {
      // Claimed again while its previous run is still settling (a retry due at
      // once): run it right after, or it would sit claimed but unhandled.
      this.#claimedAgain.set(entry.id, entry);
      return;
    }
    const now = this.#now();
    this.#inFlight.set(entry.id, { startedAt: now, touchedAt: now });
    this.#handle(entry)
      .catch((error) => {
        // The entry stays pending and is claimed again later (by another worker
        // after the visibility timeout, or by this one).
        this.#lastError = describeRedisFailure(error);
        if (error instanceof SettleAbandonedError) {
          this.#log.warn("shutdown: outcome of a handled entry not recorded; it will run again", {
            id: entry.id,
          });
          return;
        }
        this.#log.error("could not settle entry; it stays pending and will be retried", {
          id: entry.id,
          error: this.#lastError,
        });
      })
      .finally(() => {
        this.#inFlight.delete(entry.id);
        const again = this.#claimedAgain.get(entry.id);
        if (again !== undefined) {
          this.#claimedAgain.delete(entry.id);
          this.#dispatch(again);
        }
        this.#wake?.();
      });
  }

  async #handle(entry: ClaimedEntry): Promise<void> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    if (entry.deliveries > this.#maxAttempts) {
      const error = `delivered ${entry.deliveries} times, more than WORKER_MAX_ATTEMPTS=` +
        `${this.#maxAttempts}: the worker handling it may have crashed each time`;
      await this.#deadLetter(entry, "poison", error, entry.attempts, entry.deliveries);
      this.#observer.handled?.("dead_lettered", seconds(), undefined);
      return;
    }
    let decoded: DecodedEntry;
    try {
      decoded = decodeEntry(entryFields(entry.fields));
    } catch (error) {
      this.#observer.failed?.("malformed");
      await this.#deadLetter(entry, "malformed", describeError(error), entry.attempts, 1);
      this.#observer.handled?.("dead_lettered", seconds(), undefined);
      return;
    }
    const { redis } = this.#o;
    const settle = <T>(step: () => Promise<T>) => this.#settlements.settle(entry.id, step);
    if (await redis.exists(this.#keys.processed(decoded.idempotencyKey)) === 1) {
      await settle(() => acknowledgeDuplicate(redis, this.#keys, entry.id, decoded.idempotencyKey));
      this.#counts.duplicates++;
      this.#log.debug("duplicate acknowledged without calling the sink", { id: entry.id });
      this.#observer.handled?.("duplicate", seconds(), undefined);
      return;
    }
    try {
      await this.#o.sink.handle({
        id: entry.id,
        type: decoded.type,
        idempotencyKey: decoded.idempotencyKey,
        payload: decoded.payload,
        attempt: attemptNumber(entry.attempts, entry.deliveries),
        signal: this.#handlers.signal,
      });
    } catch (error) {
      if (this.#handlers.signal.aborted) return; // shutdown timeout: leave it pending
      const outcome = await this.#failed(entry, error);
      this.#observer.handled?.(outcome, seconds(), undefined);
      return;
    }
    // The sink succeeded: from here on the entry is settled or kept in hand, never run again.
    const record = {
      entryId: entry.id,
      consumer: this.#o.consumer,
      at: new Date(this.#now()).toISOString(),
    };
    await settle(() =>
      acknowledgeProcessed(
        redis,
        this.#keys,
        entry.id,
        decoded.idempotencyKey,
        this.#o.config.worker.processedTtlSeconds,
        record,
      )
    );
    this.#counts.processed++;
    this.#observer.handled?.("processed", seconds(), this.#endToEndSeconds(decoded));
  }

  /** Records a sink failure: schedules a retry, or dead-letters after the last attempt. */
  async #failed(
    entry: ClaimedEntry,
    error: unknown,
  ): Promise<"retry_scheduled" | "dead_lettered"> {
    const permanent = isPermanentFailure(error);
    this.#observer.failed?.(permanent ? "permanent" : "retryable");
    const message = describeError(error);
    const settle = <T>(step: () => Promise<T>) => this.#settlements.settle(entry.id, step);
    const stored = await settle(() => this.#o.redis.hget(this.#keys.attempts, entry.id));
    const previous = decodeAttempts(stored) ?? entry.attempts;
    const attempt = attemptNumber(previous, entry.deliveries);
    const record = nextAttempt(previous, new Date(this.#now()), message, attempt);
    if (permanent || record.attempts >= this.#maxAttempts) {
      await this.#deadLetter(
        entry,
        permanent ? "permanent" : "max_attempts",
        message,
        previous,
        record.attempts - (previous?.attempts ?? 0),
      );
      return "dead_lettered";
    }
    const delay = backoffDelay(record.attempts - 1, {
      baseMs: this.#o.config.worker.backoffBaseMs,
      capMs: this.#o.config.worker.backoffCapMs,
      random: this.#o.random,
    });
    const due = this.#now() + delay;
    if (await settle(() => scheduleRetry(this.#o.redis, this.#keys, entry.id, due, record))) {
      this.#counts.retriesScheduled++;
      this.#nextDue = Math.min(this.#nextDue ?? Infinity, this.#now() + delay);
      this.#readWakeup.dueAt(this.#now() + delay);
    }
    this.#log.warn("sink failed; retry scheduled", {
      id: entry.id,
      attempt: record.attempts,
      retry_in_ms: delay,
      error: message,
    });
    return "retry_scheduled";
  }

  /** Moves an entry to the DLQ; `previous` is its failure history before this failure. */
  async #deadLetter(
    entry: ClaimedEntry,
    reason: DeadLetterReason,
    error: string,
    previous: AttemptRecord | undefined,
    countedNow: number,
  ): Promise<void> {
    const now = new Date(this.#now()).toISOString();
    const attempts = reason === "poison" ? countedNow : (previous?.attempts ?? 0) + countedNow;
    const info = {
      sourceStream: this.#keys.stream,
      sourceId: entry.id,
      group: this.#keys.group,
      consumer: this.#o.consumer,
      reason,
      error,
      attempts,
      firstFailure: previous?.firstFailure || now,
      lastFailure: now,
    };
    const dlqId = await this.#settlements.settle(
      entry.id,
      () => deadLetter(this.#o.redis, this.#keys, entry.id, entry.fields, info),
    );
    if (dlqId === undefined) return; // settled elsewhere meanwhile
    this.#counts.deadLettered++;
    this.#log.warn("entry moved to the dead-letter queue", {
      id: entry.id,
      dlq_id: dlqId,
      reason,
      attempts,
      error,
    });
  }

  #endToEndSeconds(decoded: DecodedEntry): number | undefined {
    if (decoded.type !== "email") return undefined;
    const payload = decoded.payload as EmailPayload;
    const at = Date.parse(payload.internal_date ?? payload.date ?? "");
    return Number.isNaN(at) ? undefined : (this.#now() - at) / 1000;
  }

  /** Waits for in-flight handlers up to the shutdown timeout; returns how many were abandoned. */
  async #finishInFlight(): Promise<number> {
    const timeoutMs = this.#o.shutdownTimeoutMs ?? 30_000;
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
      await this.#extendLeases(this.#now()).catch(() => {});
    }
    const abandoned = this.#inFlight.size;
    if (abandoned > 0) {
      this.#log.warn(
        "shutdown timeout: abandoning in-flight handlers; their entries stay pending",
        {
          abandoned,
        },
      );
      this.#handlers.abort(new DOMException("worker shutdown timeout", "AbortError"));
      const grace = this.#now() + 2_000;
      while (this.#inFlight.size > 0 && this.#now() < grace) await this.#waitForWake(100);
    }
    return abandoned;
  }
}
