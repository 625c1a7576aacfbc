/**
 * A snapshot of the stream for operators: length, ends, consumer groups with
 * their consumers, pending counts, lag, the oldest pending entry's age, and
 * the dead-letter queue's length.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { entryFields, pairsToObject, streamIdTime } from "../redis/reply.ts";
import { readGroupInfo } from "./group_info.ts";
import { type EntryCounts, readEntryCounts } from "./entry_counts.ts";
import { orphanVerdict } from "./orphan.ts";

/** One consumer of a group. */
export interface ConsumerReport {
  /** Consumer name. */
  readonly name: string;
  /** Entries pending on this consumer. */
  readonly pending: number;
  /** Milliseconds since the consumer last read or claimed. */
  readonly idleMs: number;
}

/** One consumer group. */
export interface GroupReport {
  /** Group name. */
  readonly name: string;
  /** Consumers of the group. */
  readonly consumers: readonly ConsumerReport[];
  /** Entries delivered and not yet acknowledged. */
  readonly pending: number;
  /** Entries not yet delivered to the group; `null` when Redis cannot tell. */
  readonly lag: number | null;
  /** Last id delivered to the group. */
  readonly lastDeliveredId: string;
  /** Oldest pending entry, by its id's timestamp. */
  readonly oldestPendingId: string | null;
  /** Age of the oldest pending entry in ms (from its id); `null` when none. */
  readonly oldestPendingAgeMs: number | null;
  /** Milliseconds since the most recent consumer activity; `null` without consumers. */
  readonly idleMs: number | null;
  /**
   * No consumer active within the orphan threshold while entries older than
   * it wait for the group (src/stream/orphan.ts): start a worker or delete it.
   */
  readonly orphaned: boolean;
}

/** A stream entry as shown by `--tail`. */
export interface EntryReport {
  /** Entry id. */
  readonly id: string;
  /** Entry fields. */
  readonly fields: Record<string, string>;
}

/** The whole snapshot; its JSON form is the stable `stream inspect --json` shape. */
export interface StreamReport {
  /** Stream name. */
  readonly stream: string;
  /** Whether the stream exists. */
  readonly exists: boolean;
  /** XLEN. */
  readonly length: number;
  /** Id of the first entry; `null` when empty. */
  readonly firstId: string | null;
  /** Id of the last entry; `null` when empty. */
  readonly lastId: string | null;
  /** Consumer groups, by name. */
  readonly groups: readonly GroupReport[];
  /** The dead-letter stream and its length. */
  readonly dlq: { readonly stream: string; readonly length: number };
  /** The last entries (`--tail N`), newest last. */
  readonly tail: readonly EntryReport[];
  /** Entries written by type over all mailboxes (with `countTypes`); `null` when not counted. */
  readonly entryTypes?: EntryCounts | null;
  /**
   * Each partition's own report (`tail` empty there), when read with
   * `inspectPartitions`; the fields above are then the totals.
   */
  readonly partitions?: readonly PartitionReport[];
}

/** One partition's row of a {@link StreamReport}. */
export interface PartitionReport extends StreamReport {
  /** The partition's index. */
  readonly partition: number;
}

/** Options of {@link inspectStream}. */
export interface InspectOptions {
  /** Stream to inspect. */
  stream: string;
  /** Dead-letter stream whose length is reported. */
  dlqStream: string;
  /** How many of the newest entries to include. Default 0. */
  tail?: number;
  /** Orphan threshold in ms (`GROUP_ORPHAN_SECONDS`). Default 1 hour. */
  orphanMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Also sum the entries written by type (a SCAN of the producers' counters). Default false. */
  countTypes?: boolean;
}

/** Reads the snapshot. A missing stream is reported with length 0, not as an error. */
export async function inspectStream(
  redis: RedisClient,
  options: InspectOptions,
): Promise<StreamReport> {
  const now = options.now ?? Date.now;
  const [length, dlqLength] = await Promise.all([
    redis.xlen(options.stream),
    redis.xlen(options.dlqStream),
  ]);
  const exists = (await redis.exists(options.stream)) === 1;
  const [first, last] = exists
    ? await Promise.all([
      redis.xrange(options.stream, "-", "+", "COUNT", 1),
      redis.xrevrange(options.stream, "+", "-", "COUNT", 1),
    ])
    : [[], []];
  const orphanMs = options.orphanMs ?? 3_600_000;
  const groups = exists ? await readGroups(redis, options.stream, now(), orphanMs) : [];
  const tailCount = options.tail ?? 0;
  const tail = exists && tailCount > 0
    ? (await redis.xrevrange(options.stream, "+", "-", "COUNT", tailCount))
      .reverse()
      .map(([id, fields]) => ({ id, fields: entryFields(fields) }))
    : [];
  return {
    stream: options.stream,
    exists,
    length,
    firstId: first[0]?.[0] ?? null,
    lastId: last[0]?.[0] ?? null,
    groups,
    dlq: { stream: options.dlqStream, length: dlqLength },
    tail,
    entryTypes: options.countTypes ? await readEntryCounts(redis) : null,
  };
}

async function readGroups(
  redis: RedisClient,
  stream: string,
  now: number,
  orphanMs: number,
): Promise<GroupReport[]> {
  const reports: GroupReport[] = [];
  for (const info of await readGroupInfo(redis, stream)) {
    const { name } = info;
    const consumers = ((await redis.xinfo("CONSUMERS", stream, name)) as unknown[])
      .map(pairsToObject)
      .map((c) => ({ name: String(c.name), pending: Number(c.pending), idleMs: Number(c.idle) }));
    const oldest = (await redis.xpending(stream, name, "-", "+", 1)) as [
      string,
      string,
      number,
      number,
    ][];
    const oldestId = oldest[0]?.[0] ?? null;
    const undelivered = await redis.xrange(stream, `(${info.lastDeliveredId}`, "+", "COUNT", 1);
    const verdict = orphanVerdict(
      {
        consumerIdleMs: consumers.map((c) => c.idleMs),
        oldestPendingId: oldestId,
        firstUndeliveredId: undelivered[0]?.[0] ?? null,
      },
      orphanMs,
      now,
    );
    reports.push({
      name,
      consumers,
      pending: info.pending,
      lag: info.lag,
      lastDeliveredId: info.lastDeliveredId,
      oldestPendingId: oldestId,
      oldestPendingAgeMs: oldestId === null ? null : Math.max(0, now - streamIdTime(oldestId)),
      idleMs: verdict.idleMs,
      orphaned: verdict.orphaned,
    });
  }
  return reports;
}
