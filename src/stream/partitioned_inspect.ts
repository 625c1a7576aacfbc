/**
 * `stream inspect` over every partition: each partition's report as a row,
 * and the totals an operator reads first (lengths, pending and lag added
 * up, the oldest pending entry, groups and consumers merged by name). With
 * one partition the totals are that partition's report.
 *
 * @module
 */

import { readEntryCounts } from "./entry_counts.ts";
import type { RedisClient } from "../redis/client.ts";
import {
  type ConsumerReport,
  type GroupReport,
  type InspectOptions,
  inspectStream,
  type PartitionReport,
  type StreamReport,
} from "./inspect.ts";
import { compareStreamIds, type StreamPartition } from "./partition_set.ts";

/** Options of {@link inspectPartitions}: `stream`/`dlqStream` are the base names. */
export interface PartitionedInspectOptions extends InspectOptions {
  /** The partitions to read (`streamPartitionsOf(config.redis)`). */
  partitions: readonly StreamPartition[];
}

/** Reads every partition and returns the totals, with a row per partition in `partitions`. */
export async function inspectPartitions(
  redis: RedisClient,
  options: PartitionedInspectOptions,
): Promise<StreamReport> {
  const rows: PartitionReport[] = await Promise.all(
    options.partitions.map(async (p) => ({
      ...(await inspectStream(redis, {
        ...options,
        stream: p.stream,
        dlqStream: p.dlqStream,
        // The counts by type are kept per mailbox, not per partition: read once, for the totals.
        countTypes: false,
      })),
      partition: p.index,
    })),
  );
  const tailCount = options.tail ?? 0;
  const tail = tailCount === 0 ? [] : rows.flatMap((row) => row.tail)
    .sort((a, b) => compareStreamIds(a.id, b.id))
    .slice(-tailCount);
  const ids = (pick: (row: PartitionReport) => string | null) =>
    rows.map(pick).filter((id): id is string => id !== null).sort(compareStreamIds);
  const firstIds = ids((row) => row.firstId);
  const lastIds = ids((row) => row.lastId);
  return {
    stream: options.stream,
    exists: rows.some((row) => row.exists),
    length: sum(rows.map((row) => row.length)),
    firstId: firstIds[0] ?? null,
    lastId: lastIds[lastIds.length - 1] ?? null,
    groups: mergeGroups(rows.flatMap((row) => row.groups)),
    dlq: { stream: options.dlqStream, length: sum(rows.map((row) => row.dlq.length)) },
    tail,
    entryTypes: options.countTypes ? await readEntryCounts(redis) : null,
    partitions: rows.map((row) => ({ ...row, tail: [] })),
  };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** The smallest of the non-null values, `null` when none. */
function least(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : Math.min(...known);
}

/** Groups of the same name over partitions, as one group. */
function mergeGroups(groups: readonly GroupReport[]): GroupReport[] {
  const names = [...new Set(groups.map((g) => g.name))];
  return names.map((name) => {
    const same = groups.filter((g) => g.name === name);
    const oldest = same.map((g) => g.oldestPendingId)
      .filter((id): id is string => id !== null)
      .sort(compareStreamIds)[0] ?? null;
    const ages = same.map((g) => g.oldestPendingAgeMs).filter((a): a is number => a !== null);
    const lags = same.map((g) => g.lag);
    return {
      name,
      consumers: mergeConsumers(same.flatMap((g) => g.consumers)),
      pending: sum(same.map((g) => g.pending)),
      lag: lags.some((lag) => lag === null) ? null : sum(lags as number[]),
      lastDeliveredId: same.map((g) => g.lastDeliveredId).sort(compareStreamIds).at(-1)!,
      oldestPendingId: oldest,
      oldestPendingAgeMs: ages.length === 0 ? null : Math.max(...ages),
      idleMs: least(same.map((g) => g.idleMs)),
      orphaned: same.some((g) => g.orphaned),
    };
  });
}

/** Consumers of the same name over partitions: pending added up, the most recent activity. */
function mergeConsumers(consumers: readonly ConsumerReport[]): ConsumerReport[] {
  const byName = new Map<string, ConsumerReport>();
  for (const c of consumers) {
    const seen = byName.get(c.name);
    byName.set(
      c.name,
      seen === undefined ? c : {
        name: c.name,
        pending: seen.pending + c.pending,
        idleMs: Math.min(seen.idleMs, c.idleMs),
      },
    );
  }
  return [...byName.values()];
}
