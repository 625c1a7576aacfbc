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
import { firstStreamRows, type StreamFieldValue, type StreamReplyBytes } from "../redis/reply.ts";
import { ensureGroup } from "../stream/group.ts";
import { readGroupInfo } from "../stream/group_info.ts";
import type { AttemptRecord } from "./attempts.ts";
import {
  type ClaimedEntry,
  claimedFields,
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
  processedRecordsExist,
  pruneExpiredRecords,
  scheduleRetry,
} from "./settle.ts";
import { moveLegacyRecords } from "./legacy_records.ts";

export type { ClaimedEntry } from "./claim.ts";
export type { ProcessedAck } from "./settle.ts";

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

  constructor(options: ConsumerGroupOptions) {
    this.keys = options.keys;
    this.consumer = options.consumer;
    this.#redis = options.redis;
    this.#blocking = options.blockingRedis ?? options.redis;
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

  /**
   * Reads up to `count` new entries, blocking up to `blockMs` (none: do not
   * block). Each entry's `payload` value comes as its bytes (`claimedFields`).
   */
  async readNew(count: number, blockMs?: number): Promise<ClaimedEntry[]> {
    const args: (string | number)[] = ["GROUP", this.keys.group, this.consumer, "COUNT", count];
    if (blockMs !== undefined) args.push("BLOCK", blockMs);
    const reply = await this.#blocking.callBuffer(
      "XREADGROUP",
      ...args,
      "STREAMS",
      this.keys.stream,
      ">",
    ) as StreamReplyBytes | null;
    return firstStreamRows(reply).map(([id, fields]) => ({
      id,
      fields: claimedFields(fields),
      deliveries: 1,
      attempts: undefined,
    }));
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
   * Whether each of `idempotencyKeys` has a processed-record not expired at
   * `nowMs`, in order (one ZMSCORE).
   */
  processedAmong(idempotencyKeys: readonly string[], nowMs: number): Promise<boolean[]> {
    return processedRecordsExist(this.#redis, this.keys, idempotencyKeys, nowMs);
  }

  /** Removes the processed-records expired at `nowMs`; returns how many. */
  pruneExpiredRecords(nowMs: number): Promise<number> {
    return pruneExpiredRecords(this.#redis, this.keys, nowMs);
  }

  /**
   * Moves release 0.1.0's per-entry processed-records of the group into its
   * set, once per group (`moveLegacyRecords`); returns how many were moved.
   */
  moveLegacyRecords(ttlMs: number): Promise<number> {
    return moveLegacyRecords(this.#redis, this.keys, ttlMs);
  }

  /**
   * Writes each entry's processed-record (expiring at its `expiresAtMs`) and
   * acknowledges it, each entry's two together, all in one script call;
   * answers how many were still pending.
   */
  acknowledgeProcessedMany(acks: readonly ProcessedAck[]): Promise<number> {
    return acknowledgeProcessedMany(this.#redis, this.keys, acks);
  }

  /** Acknowledges `id`, a duplicate of an entry already processed. */
  acknowledgeDuplicate(id: string): Promise<boolean> {
    return acknowledgeDuplicate(this.#redis, this.keys, id);
  }

  /** Records `record` and schedules `id` for a retry at `dueMs`; false when no longer pending. */
  scheduleRetry(id: string, dueMs: number, record: AttemptRecord): Promise<boolean> {
    return scheduleRetry(this.#redis, this.keys, id, dueMs, record);
  }

  /** Moves `id` to the DLQ and acknowledges it; the DLQ id, or `undefined` when not pending. */
  deadLetter(
    id: string,
    fields: readonly StreamFieldValue[],
    info: DeadLetterInfo,
  ): Promise<string | undefined> {
    return deadLetter(this.#redis, this.keys, id, fields, info);
  }
}
