/**
 * What happens to claimed entries: poison and malformed entries go to the
 * DLQ, a duplicate (its idempotency key already has a processed-record) is
 * acknowledged without a sink call, anything else is handed to the sink and
 * then acknowledged, scheduled for a retry, or dead-lettered. Every settle
 * goes through {@link Settlements}, so Redis refusing it (OOM, outage) keeps
 * the outcome in hand instead of running the handler again.
 *
 * A read batch goes through as a batch where it can: one processed-record
 * check (ZMSCORE) for all of it, and one record + XACK script for the entries whose
 * sink calls ended in the same turn, with no promise per entry of the
 * worker's own: with 1,500 entries in hand that took a quarter off the
 * file-sink worker's CPU (docs/WORKER_PROFILE.md, wave 8).
 * Each entry still has its own outcome: one failing sink call is retried or
 * dead-lettered alone. A payload is parsed and checked only when its entry
 * enters the sink, and the parsed object is not kept after the call: entries
 * waiting in hand hold only what was read, which took a third off the garbage
 * collector's pauses (wave 9), and since wave 12 the payload as its bytes,
 * decoded when the entry enters the sink. Retries and dead-letters:
 * {@link EntryFailures}.
 *
 * @module
 */

import { describeError } from "../errors.ts";
import { entryFields, exactUtf8Bytes, textFields } from "../redis/reply.ts";
import type { Sink } from "../sinks/sink.ts";
import {
  type DecodedEntry,
  decodeEntry,
  type EmailPayload,
  entryIdempotencyKey,
} from "../stream/entry.ts";
import { attemptNumber } from "./attempts.ts";
import type { ClaimedEntry } from "./consumer_group.ts";
import { SinkGate } from "./sink_gate.ts";
import { TickBatch } from "./tick_batch.ts";
import { EntryFailures, type EntryFailuresOptions } from "./entry_failures.ts";

/** What an {@link EntryHandler} works with: what its retries and dead-letters need, and more. */
export interface EntryHandlerOptions extends EntryFailuresOptions {
  /** Where entries are delivered. */
  sink: Sink;
  /** Aborted at the shutdown timeout: handed to the sink. */
  signal: AbortSignal;
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

/** An entry on its way through the sink to its acknowledgement. */
interface Flight {
  readonly entry: ClaimedEntry;
  readonly idempotencyKey: string;
  readonly started: number;
  readonly listener: HandledListener;
}

/** A flight whose sink call succeeded: what its acknowledgement needs (not the entry's text). */
interface Delivered {
  /** The entry's id. */
  readonly id: string;
  readonly idempotencyKey: string;
  readonly started: number;
  readonly listener: HandledListener;
  /** When the message was received (ms), for the end-to-end latency; NaN when unknown. */
  readonly emailAt: number;
}

/** Runs entries to their outcomes, a read batch at a time. */
export class EntryHandler {
  readonly #o: EntryHandlerOptions;
  readonly #maxAttempts: number;
  readonly #failures: EntryFailures;
  readonly #gate: SinkGate<Flight>;
  /** Entries whose sink calls ended in the same turn, acknowledged by one script. */
  readonly #acks: TickBatch<Delivered>;

  constructor(options: EntryHandlerOptions) {
    this.#o = options;
    this.#maxAttempts = options.config.worker.maxAttempts;
    this.#failures = new EntryFailures(options);
    this.#gate = new SinkGate<Flight>(
      options.sinkCalls ?? Infinity,
      (flight) => this.#callSink(flight),
      options.signal,
    );
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
    this.#o.group.processedAmong(flights.map((f) => f.idempotencyKey), this.#o.now()).then(
      (processed) => {
        flights.forEach((flight, i) => {
          if (processed[i]) this.#own(flight, () => this.#duplicate(flight));
          else this.#gate.enter(flight);
        });
      },
      (error) => flights.forEach((f) => listener.failed(f.entry.id, error)),
    );
  }

  /**
   * Checks `entry`'s type and idempotency key, or sends a poison or malformed
   * one to the DLQ (`undefined`). The payload is parsed later, when the entry
   * enters the sink, so that entries waiting in hand hold only what was read.
   */
  #triage(entry: ClaimedEntry, started: number, listener: HandledListener): Flight | undefined {
    if (entry.deliveries > this.#maxAttempts) {
      const error = `delivered ${entry.deliveries} times, more than WORKER_MAX_ATTEMPTS=` +
        `${this.#maxAttempts}: the worker handling it may have crashed each time`;
      this.#settleAlone({ entry, started, listener }, "poison", error, entry.deliveries);
      return undefined;
    }
    try {
      const idempotencyKey = entryIdempotencyKey(entryFields(entry.fields));
      return { entry, idempotencyKey, started, listener };
    } catch (error) {
      this.#settleAlone({ entry, started, listener }, "malformed", describeError(error), 1);
      return undefined;
    }
  }

  /** Sends a poison or malformed entry to the DLQ, on its own. */
  #settleAlone(
    flight: Pick<Flight, "entry" | "started" | "listener">,
    reason: "poison" | "malformed",
    error: string,
    counted: number,
  ): void {
    this.#own(flight, async () => {
      if (reason === "malformed") this.#o.observer.failed?.("malformed");
      await this.#failures.deadLetter(flight.entry, reason, error, counted);
      this.#o.observer.handled?.("dead_lettered", this.#seconds(flight), undefined);
    });
  }

  /** Runs `step` for one entry and tells its listener how it ended. */
  #own(flight: Pick<Flight, "entry" | "listener">, step: () => Promise<void>): void {
    const { entry, listener } = flight;
    step().then(() => listener.done(entry.id), (error) => listener.failed(entry.id, error));
  }

  async #duplicate(flight: Flight): Promise<void> {
    const { group } = this.#o;
    const { entry } = flight;
    await this.#o.settlements.settle(entry.id, () => group.acknowledgeDuplicate(entry.id));
    this.#o.counts.duplicates++;
    this.#o.logger.debug("duplicate acknowledged without calling the sink", { id: entry.id });
    this.#o.observer.handled?.("duplicate", this.#seconds(flight), undefined);
  }

  /**
   * Calls the sink, holding a place of the gate (entries read ahead waited for
   * it); the place is given back before the entry is settled. The payload is
   * parsed here (a malformed one goes to the DLQ) and not kept after the call.
   * At the shutdown timeout an entry still waiting for its turn is not handed
   * over: it stays pending.
   */
  #callSink(flight: Flight): void {
    const { entry, idempotencyKey, started, listener } = flight;
    if (this.#o.signal.aborted) {
      this.#gate.leave();
      return listener.done(entry.id);
    }
    // The payload's text lives only through the sink call: a collection meanwhile need not copy it.
    // By name again rather than kept in the flight: one object less for each entry waiting in hand.
    const read = entryFields(entry.fields);
    const fields = textFields(read);
    let decoded: DecodedEntry;
    try {
      decoded = decodeEntry(fields);
    } catch (error) {
      this.#settleAlone(flight, "malformed", describeError(error), 1);
      return this.#gate.leave();
    }
    const emailAt = emailTime(decoded);
    const payloadBytes = read.payload;
    let call: Promise<void>;
    try {
      call = this.#o.sink.handle({
        id: entry.id,
        type: decoded.type,
        idempotencyKey,
        payload: decoded.payload,
        payloadJson: fields.payload,
        payloadBytes: typeof payloadBytes === "object"
          ? exactUtf8Bytes(payloadBytes, fields.payload!)
          : undefined,
        attempt: attemptNumber(entry.attempts, entry.deliveries),
        signal: this.#o.signal,
      });
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(() => {
      this.#gate.leave();
      // The sink succeeded: from here on the entry is settled or kept in hand, never run again.
      const delivered = { id: entry.id, idempotencyKey, started, listener, emailAt };
      this.#acks.push(delivered, this.#acknowledged, this.#unacknowledged);
    }, (error) => {
      this.#gate.leave();
      this.#own(flight, () => this.#sinkFailed(flight, error));
    });
  }

  /** Writes the processed-records and acknowledges `flights`, retrying what Redis refuses. */
  async #acknowledge(flights: readonly Delivered[]): Promise<void> {
    const { group } = this.#o;
    // One time for all: their sink calls ended in the turn before.
    const expiresAtMs = this.#o.now() + this.#o.config.worker.processedTtlSeconds * 1000;
    const acks = flights.map(({ id, idempotencyKey }) => ({ id, idempotencyKey, expiresAtMs }));
    await this.#o.settlements.settleMany(
      flights.map((f) => f.id),
      () => group.acknowledgeProcessedMany(acks),
    );
  }

  readonly #acknowledged = (flight: Delivered): void => {
    this.#o.counts.processed++;
    const { observer } = this.#o;
    const endToEnd = Number.isNaN(flight.emailAt)
      ? undefined
      : (this.#o.now() - flight.emailAt) / 1000;
    try {
      observer.handled?.("processed", this.#seconds(flight), endToEnd);
    } catch (error) {
      // A caller's observer threw (a library user's metrics code): reported like a failed
      // settle, as on every other path, and the rest of the batch still finishes.
      return flight.listener.failed(flight.id, error);
    }
    flight.listener.done(flight.id);
  };

  readonly #unacknowledged = (error: unknown, flight: Delivered): void => {
    flight.listener.failed(flight.id, error);
  };

  /** A sink call failed: a retry or the DLQ; nothing at the shutdown timeout (left pending). */
  async #sinkFailed(flight: Flight, error: unknown): Promise<void> {
    if (this.#o.signal.aborted) return;
    const outcome = await this.#failures.sinkFailed(flight.entry, error);
    this.#o.observer.handled?.(outcome, this.#seconds(flight), undefined);
  }

  #seconds(flight: Pick<Flight, "started">): number {
    return (performance.now() - flight.started) / 1000;
  }
}

/** When an email entry's message was received (ms; NaN for other entries or without a date). */
function emailTime(decoded: DecodedEntry): number {
  if (decoded.type !== "email") return NaN;
  const payload = decoded.payload as EmailPayload;
  return Date.parse(payload.internal_date ?? payload.date ?? "");
}
