/**
 * One consumer's view of its consumer group: every Redis command a worker
 * sends about the group goes through here. It owns the claim scripts
 * (due retries, stalled entries, leases, pruning), the settle scripts
 * (acknowledge, retry, dead-letter), the attempts record (read once, by the
 * claim scripts, together with the claim) and the `XINFO` reads.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import type { DeadLetterInfo } from "../dlq/dead_letter.ts";
import { ensureGroup } from "../stream/group.ts";
import { readGroupInfo } from "../stream/group_info.ts";
import type { AttemptRecord } from "./attempts.ts";
import {
  type ClaimedEntry,
  extendLeases,
  leaveGroup,
  nextRetryDue,
  pruneIdleConsumers,
  reclaimOwnOrphans,
  reclaimStalled,
  takeDueRetries,
} from "./claim.ts";
import type { GroupKeys } from "./group_keys.ts";
import {
  acknowledgeDuplicate,
  acknowledgeProcessedMany,
  deadLetter,
  type ProcessedAck,
  type ProcessedRecord,
  processedRecordsExist,
  scheduleRetry,
} from "./settle.ts";
import { TickBatch } from "./tick_batch.ts";

export type { ClaimedEntry } from "./claim.ts";
export type { ProcessedRecord } from "./settle.ts";

/** Options of {@link ConsumerGroup}. */
export interface ConsumerGroupOptions {
  /** Connection for every command but the blocking read. */
  redis: RedisClient;
  /** Connection for the blocking XREADGROUP only. Default `redis`. */
  blockingRedis?: RedisClient;
  /** The group's keys (see `groupKeys`). */
  keys: GroupKeys;
  /** This consumer's name in the group. */
  consumer: string;
}

/** A consumer of one group of one stream. */
export class ConsumerGroup {
  /** The group's keys. */
  readonly keys: GroupKeys;
  /** This consumer's name. */
  readonly consumer: string;
  readonly #redis: RedisClient;
  readonly #blocking: RedisClient;
  /** Where the next stalled-entry scan starts (`-`: the beginning). */
  #stalledStart = "-";
  /** Processed-record checks of one turn, sent as one MGET. */
  readonly #processedChecks: TickBatch<string, boolean>;
  /** Acknowledgements of one turn, sent as one script. */
  readonly #acks: TickBatch<ProcessedAck, boolean>;

  constructor(options: ConsumerGroupOptions) {
    this.keys = options.keys;
    this.consumer = options.consumer;
    this.#redis = options.redis;
    this.#blocking = options.blockingRedis ?? options.redis;
    const redis = this.#redis;
    this.#processedChecks = new TickBatch({
      flush: (idempotencyKeys) => processedRecordsExist(redis, this.keys, idempotencyKeys),
    });
    this.#acks = new TickBatch({
      flush: (acks) => acknowledgeProcessedMany(redis, this.keys, acks),
    });
  }

  /** Creates the group (reading from the beginning) unless it exists. */
  ensure(): Promise<void> {
    return ensureGroup(this.#redis, this.keys.stream, this.keys.group);
  }

  /** Whether the group exists on the stream (`XINFO GROUPS`). */
  async exists(): Promise<boolean> {
    const groups = await readGroupInfo(this.#redis, this.keys.stream);
    return groups.some((g) => g.name === this.keys.group);
  }

  /** Whether nothing is pending in the group (in flight anywhere or waiting for a retry). */
  async settled(): Promise<boolean> {
    const summary = await this.#redis.xpending(this.keys.stream, this.keys.group) as [
      number,
      ...unknown[],
    ];
    return Number(summary[0]) === 0;
  }

  /** Reads up to `count` new entries, blocking up to `blockMs` (none: do not block). */
  async readNew(count: number, blockMs?: number): Promise<ClaimedEntry[]> {
    const args: (string | number)[] = ["GROUP", this.keys.group, this.consumer, "COUNT", count];
    if (blockMs !== undefined) args.push("BLOCK", blockMs);
    const reply = await this.#blocking.call(
      "XREADGROUP",
      ...args,
      "STREAMS",
      this.keys.stream,
      ">",
    ) as [string, [string, string[]][]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    return entries.map(([id, fields]) => ({ id, fields, deliveries: 1, attempts: undefined }));
  }

  /** Claims up to `count` entries whose retry is due at `nowMs`. */
  takeDueRetries(nowMs: number, count: number): Promise<ClaimedEntry[]> {
    return takeDueRetries(this.#redis, this.keys, this.consumer, nowMs, count);
  }

  /** Due time (Unix ms) of the earliest scheduled retry, `undefined` when none. */
  nextRetryDue(): Promise<number | undefined> {
    return nextRetryDue(this.#redis, this.keys);
  }

  /**
   * Claims up to `count` entries idle for more than `minIdleMs` on any
   * consumer, continuing the scan where the previous call stopped; `live`
   * (this consumer's own entries in hand) are never claimed.
   */
  async reclaimStalled(
    minIdleMs: number,
    count: number,
    live: readonly string[],
  ): Promise<ClaimedEntry[]> {
    const pass = await reclaimStalled(
      this.#redis,
      this.keys,
      this.consumer,
      minIdleMs,
      count,
      this.#stalledStart,
      live,
    );
    this.#stalledStart = pass.nextStart;
    return pass.claimed;
  }

  /**
   * Claims up to `count` of this consumer's own pending entries not among
   * `live` (those in hand), at once: what a read lost with its connection
   * delivered, or an earlier process of this consumer name left.
   */
  reclaimOwnOrphans(count: number, live: readonly string[]): Promise<ClaimedEntry[]> {
    return reclaimOwnOrphans(this.#redis, this.keys, this.consumer, count, live);
  }

  /** Resets the idle time of `ids` still owned by this consumer; returns how many. */
  extendLeases(ids: readonly string[]): Promise<number> {
    return extendLeases(this.#redis, this.keys, this.consumer, ids);
  }

  /** Removes other consumers idle for more than `minIdleMs` with nothing pending. */
  pruneIdleConsumers(minIdleMs: number): Promise<string[]> {
    return pruneIdleConsumers(this.#redis, this.keys, this.consumer, minIdleMs);
  }

  /** Removes this consumer when nothing is pending on it; returns whether it was removed. */
  leave(): Promise<boolean> {
    return leaveGroup(this.#redis, this.keys, this.consumer);
  }

  /**
   * Whether `idempotencyKey` already has a processed-record. Checks asked for
   * in the same turn of the event loop go to Redis as one MGET.
   */
  isProcessed(idempotencyKey: string): Promise<boolean> {
    return this.#processedChecks.add(idempotencyKey);
  }

  /**
   * Writes the processed-record (kept `ttlSeconds`) and acknowledges `id`, in
   * one step; false when it was no longer pending. Entries acknowledged in the
   * same turn of the event loop share one script call (each entry's record and
   * XACK still go together, and each caller gets its own answer or error).
   */
  acknowledgeProcessed(
    id: string,
    idempotencyKey: string,
    ttlSeconds: number,
    record: ProcessedRecord,
  ): Promise<boolean> {
    return this.#acks.add({ id, idempotencyKey, ttlSeconds, record });
  }

  /** Acknowledges `id`, a duplicate of an entry already processed. */
  acknowledgeDuplicate(id: string, idempotencyKey: string): Promise<boolean> {
    return acknowledgeDuplicate(this.#redis, this.keys, id, idempotencyKey);
  }

  /** Records `record` and schedules `id` for a retry at `dueMs`; false when no longer pending. */
  scheduleRetry(id: string, dueMs: number, record: AttemptRecord): Promise<boolean> {
    return scheduleRetry(this.#redis, this.keys, id, dueMs, record);
  }

  /** Moves `id` to the DLQ and acknowledges it; the DLQ id, or `undefined` when not pending. */
  deadLetter(
    id: string,
    fields: readonly string[],
    info: DeadLetterInfo,
  ): Promise<string | undefined> {
    return deadLetter(this.#redis, this.keys, id, fields, info);
  }
}
