/**
 * What becomes of an entry that cannot be delivered: a retry on the backoff
 * schedule (kept in Redis), or the dead-letter queue after the last attempt,
 * on a permanent failure, and at once for poison and malformed entries. Each
 * move goes through {@link Settlements}, like every settle, and writes the
 * entry's failure history with it.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { DeadLetterReason } from "../dlq/dead_letter.ts";
import { describeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { WorkerObserver } from "../observe/events.ts";
import { backoffDelay } from "../retry/backoff.ts";
import { isPermanentFailure } from "../sinks/sink.ts";
import { attemptNumber, type AttemptRecord, nextAttempt } from "./attempts.ts";
import type { ClaimedEntry, ConsumerGroup } from "./consumer_group.ts";
import type { Settlements } from "./settlements.ts";
import type { WorkerCounts } from "./worker_types.ts";

/** What {@link EntryFailures} works with (a part of the entry handler's options). */
export interface EntryFailuresOptions {
  /** The consumer group the entries were claimed from. */
  group: ConsumerGroup;
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
  /** Called with the due time of each retry scheduled. */
  onRetryScheduled: (dueAt: number) => void;
  /** Clock in ms. */
  now: () => number;
  /** Jitter source of the backoff. Default `Math.random`. */
  random?: () => number;
}

/** Retries and dead-letters entries. */
export class EntryFailures {
  readonly #o: EntryFailuresOptions;
  readonly #maxAttempts: number;

  constructor(options: EntryFailuresOptions) {
    this.#o = options;
    this.#maxAttempts = options.config.worker.maxAttempts;
  }

  /** Records a sink failure: schedules a retry, or dead-letters after the last attempt. */
  async sinkFailed(
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
      await this.deadLetter(entry, reason, message, record.attempts - (previous?.attempts ?? 0));
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
  async deadLetter(
    entry: ClaimedEntry,
    reason: DeadLetterReason,
    error: string,
    countedNow: number,
  ): Promise<void> {
    const { group } = this.#o;
    const previous: AttemptRecord | undefined = entry.attempts;
    const now = new Date(this.#o.now()).toISOString();
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
}
