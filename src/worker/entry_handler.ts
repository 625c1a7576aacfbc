/**
 * What happens to one claimed entry: poison and malformed entries go to the
 * DLQ, a duplicate (its idempotency key already has a processed-record) is
 * acknowledged without a sink call, anything else is handed to the sink and
 * then acknowledged, scheduled for a retry, or dead-lettered. Every settle
 * goes through {@link Settlements}, so Redis refusing it (OOM, outage) keeps
 * the outcome in hand instead of running the handler again.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { DeadLetterReason } from "../dlq/dead_letter.ts";
import { describeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { WorkerObserver } from "../observe/events.ts";
import { entryFields } from "../redis/reply.ts";
import { backoffDelay } from "../retry/backoff.ts";
import { isPermanentFailure, type Sink } from "../sinks/sink.ts";
import { type DecodedEntry, decodeEntry, type EmailPayload } from "../stream/entry.ts";
import { attemptNumber, type AttemptRecord, nextAttempt } from "./attempts.ts";
import type { ClaimedEntry, ConsumerGroup } from "./consumer_group.ts";
import type { Settlements } from "./settlements.ts";
import { SinkGate } from "./sink_gate.ts";
import type { WorkerCounts } from "./worker_types.ts";

/** What an {@link EntryHandler} works with. */
export interface EntryHandlerOptions {
  /** The consumer group the entries were claimed from. */
  group: ConsumerGroup;
  /** Where entries are delivered. */
  sink: Sink;
  /** Retries every settle Redis refuses for a passing reason. */
  settlements: Settlements;
  /** Retry settings (`config.worker`). */
  config: Config;
  /** Counters of the run, updated in place. */
  counts: WorkerCounts;
  /** Metrics hooks. */
  observer: WorkerObserver;
  /** The worker's logger. */
  logger: Logger;
  /** Aborted at the shutdown timeout: handed to the sink. */
  signal: AbortSignal;
  /** Called with the due time of each retry scheduled. */
  onRetryScheduled: (dueAt: number) => void;
  /** Clock in ms. */
  now: () => number;
  /** Jitter source of the backoff. Default `Math.random`. */
  random?: () => number;
  /** Sink calls at once (`--concurrency`); entries read ahead wait for a place. Default: no limit. */
  sinkCalls?: number;
}

/** Runs one entry to its outcome. */
export class EntryHandler {
  readonly #o: EntryHandlerOptions;
  readonly #maxAttempts: number;
  readonly #gate: SinkGate;
  #isoAt = NaN;
  #isoText = "";

  constructor(options: EntryHandlerOptions) {
    this.#o = options;
    this.#maxAttempts = options.config.worker.maxAttempts;
    this.#gate = new SinkGate(options.sinkCalls ?? Infinity, options.signal);
  }

  /** Handles `entry`; throws when a settle fails for good (the entry then stays pending). */
  async handle(entry: ClaimedEntry): Promise<void> {
    const { observer } = this.#o;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    if (entry.deliveries > this.#maxAttempts) {
      const error = `delivered ${entry.deliveries} times, more than WORKER_MAX_ATTEMPTS=` +
        `${this.#maxAttempts}: the worker handling it may have crashed each time`;
      await this.#deadLetter(entry, "poison", error, entry.deliveries);
      observer.handled?.("dead_lettered", seconds(), undefined);
      return;
    }
    let decoded: DecodedEntry;
    let payloadJson: string | undefined;
    try {
      const fields = entryFields(entry.fields);
      decoded = decodeEntry(fields);
      payloadJson = fields.payload;
    } catch (error) {
      observer.failed?.("malformed");
      await this.#deadLetter(entry, "malformed", describeError(error), 1);
      observer.handled?.("dead_lettered", seconds(), undefined);
      return;
    }
    const outcome = await this.#deliver(entry, decoded, payloadJson);
    if (outcome === undefined) return;
    observer.handled?.(
      outcome,
      seconds(),
      outcome === "processed" ? this.#endToEndSeconds(decoded) : undefined,
    );
  }

  /** Hands a decoded entry to the sink and settles it; `undefined` when left pending at shutdown. */
  async #deliver(
    entry: ClaimedEntry,
    decoded: DecodedEntry,
    payloadJson: string | undefined,
  ): Promise<"processed" | "duplicate" | "retry_scheduled" | "dead_lettered" | undefined> {
    const { group } = this.#o;
    const settle = <T>(step: () => Promise<T>) => this.#o.settlements.settle(entry.id, step);
    const key = decoded.idempotencyKey;
    if (await group.isProcessed(key)) {
      await settle(() => group.acknowledgeDuplicate(entry.id, key));
      this.#o.counts.duplicates++;
      this.#o.logger.debug("duplicate acknowledged without calling the sink", { id: entry.id });
      return "duplicate";
    }
    const failure = await this.#callSink(entry, decoded, payloadJson);
    if (this.#o.signal.aborted && failure !== undefined) return undefined; // shutdown timeout
    if (failure !== undefined) return await this.#failed(entry, failure.error);
    // The sink succeeded: from here on the entry is settled or kept in hand, never run again.
    const record = { entryId: entry.id, consumer: group.consumer, at: this.#iso() };
    const ttl = this.#o.config.worker.processedTtlSeconds;
    await settle(() => group.acknowledgeProcessed(entry.id, key, ttl, record));
    this.#o.counts.processed++;
    return "processed";
  }

  /**
   * Waits for a place among the sink calls (entries read ahead wait here),
   * then calls the sink; the place is given back before the entry is settled.
   * Returns the sink's error, `undefined` on success; at the shutdown timeout
   * an entry still waiting for its turn is not handed over (`{ error }`).
   */
  async #callSink(
    entry: ClaimedEntry,
    decoded: DecodedEntry,
    payloadJson: string | undefined,
  ): Promise<{ error: unknown } | undefined> {
    const entered = this.#gate.enter();
    if (entered !== undefined) await entered;
    try {
      if (this.#o.signal.aborted) return { error: this.#o.signal.reason };
      await this.#o.sink.handle({
        id: entry.id,
        type: decoded.type,
        idempotencyKey: decoded.idempotencyKey,
        payload: decoded.payload,
        payloadJson,
        attempt: attemptNumber(entry.attempts, entry.deliveries),
        signal: this.#o.signal,
      });
      return undefined;
    } catch (error) {
      return { error };
    } finally {
      this.#gate.leave();
    }
  }

  /** Records a sink failure: schedules a retry, or dead-letters after the last attempt. */
  async #failed(
    entry: ClaimedEntry,
    error: unknown,
  ): Promise<"retry_scheduled" | "dead_lettered"> {
    const permanent = isPermanentFailure(error);
    this.#o.observer.failed?.(permanent ? "permanent" : "retryable");
    const message = describeError(error);
    // The failure history came with the claim (read once, by the claim script).
    const previous = entry.attempts;
    const attempt = attemptNumber(previous, entry.deliveries);
    const record = nextAttempt(previous, new Date(this.#o.now()), message, attempt);
    if (permanent || record.attempts >= this.#maxAttempts) {
      const reason = permanent ? "permanent" : "max_attempts";
      await this.#deadLetter(entry, reason, message, record.attempts - (previous?.attempts ?? 0));
      return "dead_lettered";
    }
    const { worker } = this.#o.config;
    const delay = backoffDelay(record.attempts - 1, {
      baseMs: worker.backoffBaseMs,
      capMs: worker.backoffCapMs,
      random: this.#o.random,
    });
    const due = this.#o.now() + delay;
    const scheduled = await this.#o.settlements.settle(
      entry.id,
      () => this.#o.group.scheduleRetry(entry.id, due, record),
    );
    if (scheduled) {
      this.#o.counts.retriesScheduled++;
      this.#o.onRetryScheduled(this.#o.now() + delay);
    }
    this.#o.logger.warn("sink failed; retry scheduled", {
      id: entry.id,
      attempt: record.attempts,
      retry_in_ms: delay,
      error: message,
    });
    return "retry_scheduled";
  }

  /** Moves an entry to the DLQ; `countedNow` failures are added to its history. */
  async #deadLetter(
    entry: ClaimedEntry,
    reason: DeadLetterReason,
    error: string,
    countedNow: number,
  ): Promise<void> {
    const { group } = this.#o;
    const previous: AttemptRecord | undefined = entry.attempts;
    const now = this.#iso();
    const attempts = reason === "poison" ? countedNow : (previous?.attempts ?? 0) + countedNow;
    const info = {
      sourceStream: group.keys.stream,
      sourceId: entry.id,
      group: group.keys.group,
      consumer: group.consumer,
      reason,
      error,
      attempts,
      firstFailure: previous?.firstFailure || now,
      lastFailure: now,
    };
    const dlqId = await this.#o.settlements.settle(
      entry.id,
      () => group.deadLetter(entry.id, entry.fields, info),
    );
    if (dlqId === undefined) return; // settled elsewhere meanwhile
    this.#o.counts.deadLettered++;
    this.#o.logger.warn("entry moved to the dead-letter queue", {
      id: entry.id,
      dlq_id: dlqId,
      reason,
      attempts,
      error,
    });
  }

  /** The clock as ISO text; entries settled in the same millisecond share one string. */
  #iso(): string {
    const now = this.#o.now();
    if (now !== this.#isoAt) {
      this.#isoAt = now;
      this.#isoText = new Date(now).toISOString();
    }
    return this.#isoText;
  }

  #endToEndSeconds(decoded: DecodedEntry): number | undefined {
    if (decoded.type !== "email") return undefined;
    const payload = decoded.payload as EmailPayload;
    const at = Date.parse(payload.internal_date ?? payload.date ?? "");
    return Number.isNaN(at) ? undefined : (this.#o.now() - at) / 1000;
  }
}
