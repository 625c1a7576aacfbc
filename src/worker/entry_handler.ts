/**
 * What happens to claimed entries: poison and malformed entries go to the
 * DLQ, a duplicate (its idempotency key already has a processed-record) is
 * acknowledged without a sink call, anything else is handed to the sink and
 * then acknowledged, scheduled for a retry, or dead-lettered. Every settle
 * goes through {@link Settlements}, so Redis refusing it (OOM, outage) keeps
 * the outcome in hand instead of running the handler again.
 *
 * A read batch goes through as a batch where it can: one processed-record
 * MGET for all of it, and one record + XACK script for the entries whose
 * sink calls ended in the same turn, with no promise per entry of the
 * worker's own: with 1,500 entries in hand that took a quarter off the
 * file-sink worker's CPU (docs/WORKER_PROFILE.md, wave 8).
 * Each entry still has its own outcome: one failing sink call is retried or
 * dead-lettered alone.
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
import { TickBatch } from "./tick_batch.ts";
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

/** Told once per entry when it leaves an {@link EntryHandler}'s hands. */
export interface HandledListener {
  /** The entry reached its outcome (or was left pending at the shutdown timeout). */
  done(id: string): void;
  /** A settle failed for good: the entry stays pending in the group. */
  failed(id: string, error: unknown): void;
}

/** An entry decoded and on its way through the sink to its acknowledgement. */
interface Flight {
  readonly entry: ClaimedEntry;
  readonly decoded: DecodedEntry;
  readonly payloadJson: string | undefined;
  readonly started: number;
  readonly listener: HandledListener;
}

/** Runs entries to their outcomes, a read batch at a time. */
export class EntryHandler {
  readonly #o: EntryHandlerOptions;
  readonly #maxAttempts: number;
  readonly #gate: SinkGate;
  /** Entries whose sink calls ended in the same turn, acknowledged by one script. */
  readonly #acks: TickBatch<Flight>;
  #isoAt = NaN;
  #isoText = "";

  constructor(options: EntryHandlerOptions) {
    this.#o = options;
    this.#maxAttempts = options.config.worker.maxAttempts;
    this.#gate = new SinkGate(options.sinkCalls ?? Infinity, options.signal);
    this.#acks = new TickBatch({ flush: (flights) => this.#acknowledge(flights) });
  }

  /** Handles one `entry`; throws when a settle fails for good (the entry then stays pending). */
  handle(entry: ClaimedEntry): Promise<void> {
    return new Promise((resolve, reject) =>
      this.handleMany([entry], { done: () => resolve(), failed: (_id, error) => reject(error) })
    );
  }

  /**
   * Handles `entries` (a read batch): one processed-record check for all of
   * them, each through the sink as a place is free, and the acknowledgements
   * of sink calls that end together in one script. `listener` hears of each
   * entry once. Poison and malformed entries, duplicates and sink failures
   * take their own way, one entry at a time.
   */
  handleMany(entries: readonly ClaimedEntry[], listener: HandledListener): void {
    const started = performance.now();
    const flights: Flight[] = [];
    for (const entry of entries) {
      const flight = this.#triage(entry, started, listener);
      if (flight !== undefined) flights.push(flight);
    }
    if (flights.length === 0) return;
    this.#o.group.processedAmong(flights.map((f) => f.decoded.idempotencyKey)).then(
      (processed) => {
        flights.forEach((flight, i) => {
          if (processed[i]) this.#own(flight, () => this.#duplicate(flight));
          else this.#gate.enter(() => this.#callSink(flight));
        });
      },
      (error) => flights.forEach((f) => listener.failed(f.entry.id, error)),
    );
  }

  /** Decodes `entry`, or sends a poison or malformed one to the DLQ (`undefined`). */
  #triage(entry: ClaimedEntry, started: number, listener: HandledListener): Flight | undefined {
    const settleAlone = (reason: "poison" | "malformed", error: string, counted: number) => {
      this.#own({ entry, listener }, async () => {
        if (reason === "malformed") this.#o.observer.failed?.("malformed");
        await this.#deadLetter(entry, reason, error, counted);
        this.#o.observer.handled?.("dead_lettered", this.#seconds({ started }), undefined);
      });
    };
    if (entry.deliveries > this.#maxAttempts) {
      const error = `delivered ${entry.deliveries} times, more than WORKER_MAX_ATTEMPTS=` +
        `${this.#maxAttempts}: the worker handling it may have crashed each time`;
      settleAlone("poison", error, entry.deliveries);
      return undefined;
    }
    try {
      const fields = entryFields(entry.fields);
      const decoded = decodeEntry(fields);
      return { entry, decoded, payloadJson: fields.payload, started, listener };
    } catch (error) {
      settleAlone("malformed", describeError(error), 1);
      return undefined;
    }
  }

  /** Runs `step` for one entry and tells its listener how it ended. */
  #own(flight: Pick<Flight, "entry" | "listener">, step: () => Promise<void>): void {
    const { entry, listener } = flight;
    step().then(() => listener.done(entry.id), (error) => listener.failed(entry.id, error));
  }

  async #duplicate(flight: Flight): Promise<void> {
    const { group } = this.#o;
    const { entry, decoded } = flight;
    const key = decoded.idempotencyKey;
    await this.#o.settlements.settle(entry.id, () => group.acknowledgeDuplicate(entry.id, key));
    this.#o.counts.duplicates++;
    this.#o.logger.debug("duplicate acknowledged without calling the sink", { id: entry.id });
    this.#o.observer.handled?.("duplicate", this.#seconds(flight), undefined);
  }

  /**
   * Calls the sink, holding a place of the gate (entries read ahead waited for
   * it); the place is given back before the entry is settled. At the shutdown
   * timeout an entry still waiting for its turn is not handed over: it stays
   * pending.
   */
  #callSink(flight: Flight): void {
    const { entry, decoded } = flight;
    if (this.#o.signal.aborted) {
      this.#gate.leave();
      return flight.listener.done(entry.id);
    }
    let call: Promise<void>;
    try {
      call = this.#o.sink.handle({
        id: entry.id,
        type: decoded.type,
        idempotencyKey: decoded.idempotencyKey,
        payload: decoded.payload,
        payloadJson: flight.payloadJson,
        attempt: attemptNumber(entry.attempts, entry.deliveries),
        signal: this.#o.signal,
      });
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(() => {
      this.#gate.leave();
      // The sink succeeded: from here on the entry is settled or kept in hand, never run again.
      this.#acks.push(flight, this.#acknowledged, this.#unacknowledged);
    }, (error) => {
      this.#gate.leave();
      this.#own(flight, () => this.#sinkFailed(flight, error));
    });
  }

  /** Writes the processed-records and acknowledges `flights`, retrying what Redis refuses. */
  async #acknowledge(flights: readonly Flight[]): Promise<void> {
    const { group } = this.#o;
    const ttlSeconds = this.#o.config.worker.processedTtlSeconds;
    const at = this.#iso(); // one time for all: their sink calls ended in the turn before
    const acks = flights.map(({ entry, decoded }) => ({
      id: entry.id,
      idempotencyKey: decoded.idempotencyKey,
      ttlSeconds,
      record: { entryId: entry.id, consumer: group.consumer, at },
    }));
    await this.#o.settlements.settleMany(
      flights.map((f) => f.entry.id),
      () => group.acknowledgeProcessedMany(acks),
    );
  }

  readonly #acknowledged = (flight: Flight): void => {
    this.#o.counts.processed++;
    const { observer } = this.#o;
    try {
      observer.handled?.("processed", this.#seconds(flight), this.#endToEndSeconds(flight.decoded));
    } catch (error) {
      // A caller's observer threw (a library user's metrics code): reported like a failed
      // settle, as on every other path, and the rest of the batch still finishes.
      return flight.listener.failed(flight.entry.id, error);
    }
    flight.listener.done(flight.entry.id);
  };

  readonly #unacknowledged = (error: unknown, flight: Flight): void => {
    flight.listener.failed(flight.entry.id, error);
  };

  /** A sink call failed: a retry or the DLQ; nothing at the shutdown timeout (left pending). */
  async #sinkFailed(flight: Flight, error: unknown): Promise<void> {
    if (this.#o.signal.aborted) return;
    const outcome = await this.#failed(flight.entry, error);
    this.#o.observer.handled?.(outcome, this.#seconds(flight), undefined);
  }

  #seconds(flight: Pick<Flight, "started">): number {
    return (performance.now() - flight.started) / 1000;
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
