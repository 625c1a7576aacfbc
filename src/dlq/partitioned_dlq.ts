/**
 * The dead-letter queue across partitions: each partition has its own DLQ
 * (`<dlq>:{p<i>}`, in the partition's slot, so the worker's move and the
 * replay stay one script in one slot). Listing merges the partitions oldest
 * first; ids are looked up in every partition; replay sends each entry back
 * to its own partition's stream; purge deletes it where it is.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { compareStreamIds, type StreamPartition } from "../stream/partition_set.ts";
import type { DeadLetter, DeadLetterReason } from "./dead_letter.ts";
import {
  allDeadLetterIds,
  listDeadLetters,
  purgeAllDeadLetters,
  purgeDeadLetters,
  readDeadLetters,
  replayDeadLetters,
  type Replayed,
} from "./dead_letter_queue.ts";

/** A dead letter and the partition whose DLQ holds it. */
export interface PartitionDeadLetter {
  /** The partition's index. */
  readonly partition: number;
  /** The entry. */
  readonly letter: DeadLetter;
}

/** A partition's DLQ and a count (entries, matches, or entries removed). */
export interface PartitionCount {
  /** The partition's index. */
  readonly partition: number;
  /** Its DLQ stream. */
  readonly stream: string;
  /** The count. */
  readonly count: number;
}

/** A page of the DLQ across partitions. */
export interface PartitionedDeadLetterPage {
  /** Entries in every partition's DLQ (with `reason`: of that reason). */
  readonly total: number;
  /** The page, oldest first over all partitions. */
  readonly entries: readonly PartitionDeadLetter[];
  /** Per partition, its `total`. */
  readonly partitions: readonly PartitionCount[];
}

/** Reads up to `limit` dead letters after `offset`, oldest first across `partitions`. */
export async function listPartitionedDeadLetters(
  redis: RedisClient,
  partitions: readonly StreamPartition[],
  limit: number,
  options: { offset?: number; reason?: DeadLetterReason } = {},
): Promise<PartitionedDeadLetterPage> {
  const offset = options.offset ?? 0;
  // The first offset + limit of the merge are among the first offset + limit of each partition.
  const pages = await Promise.all(
    partitions.map((p) => listDeadLetters(redis, p, offset + limit, { reason: options.reason })),
  );
  const merged = pages
    .flatMap((page, i) =>
      page.entries.map((letter) => ({ partition: partitions[i]!.index, letter }))
    )
    .sort((a, b) => compareStreamIds(a.letter.id, b.letter.id) || a.partition - b.partition);
  return {
    total: pages.reduce((sum, page) => sum + page.total, 0),
    entries: merged.slice(offset, offset + limit),
    partitions: partitions.map((p, i) => ({
      partition: p.index,
      stream: p.dlqStream,
      count: pages[i]!.total,
    })),
  };
}

/** Names a dead letter: its DLQ id, in one partition or (`partition` unset) in any. */
export interface DeadLetterSelector {
  /** The partition whose DLQ holds it; unset: whichever does. */
  readonly partition?: number;
  /** Its id in the DLQ. */
  readonly id: string;
}

/** `1700000000000-0` or, naming the partition, `3/1700000000000-0`; `undefined` if neither. */
export function parseDeadLetterSelector(text: string): DeadLetterSelector | undefined {
  const match = /^(?:(\d+)\/)?(\d+(?:-\d+)?)$/.exec(text);
  if (!match) return undefined;
  return match[1] === undefined
    ? { id: match[2]! }
    : { partition: Number(match[1]), id: match[2]! };
}

/** How a selector is written: `3/1700000000000-0`, or the id alone. */
export function selectorText(selector: DeadLetterSelector): string {
  return selector.partition === undefined ? selector.id : `${selector.partition}/${selector.id}`;
}

/** Dead letters found by selector; selectors matching none are `missing`. */
export interface LocatedDeadLetters {
  /** What was found, with its partition. */
  readonly found: readonly PartitionDeadLetter[];
  /** Selectors no partition's DLQ holds, as given. */
  readonly missing: readonly string[];
  /**
   * Bare ids found in several partitions' DLQs (ids are per stream, so two
   * partitions can dead-letter in the same millisecond): nothing of these
   * is in `found`; name the partition (`3/<id>`).
   */
  readonly ambiguous: readonly { readonly id: string; readonly partitions: readonly number[] }[];
}

/**
 * Looks `selectors` up (`undefined`: every entry of every partition's DLQ).
 * A bare id is looked for in every partition.
 */
export async function locateDeadLetters(
  redis: RedisClient,
  partitions: readonly StreamPartition[],
  selectors: readonly DeadLetterSelector[] | undefined,
): Promise<LocatedDeadLetters> {
  const hits: PartitionDeadLetter[][] = (selectors ?? []).map(() => []);
  const everything: PartitionDeadLetter[] = [];
  for (const p of partitions) {
    if (selectors === undefined) {
      const read = await readDeadLetters(redis, p, await allDeadLetterIds(redis, p));
      everything.push(...read.found.map((letter) => ({ partition: p.index, letter })));
      continue;
    }
    const mine = selectors.flatMap((s, i) =>
      s.partition === undefined || s.partition === p.index ? [i] : []
    );
    const read = await readDeadLetters(redis, p, mine.map((i) => selectors[i]!.id));
    for (const i of mine) {
      const letter = read.found.find((l) => l.id === selectors[i]!.id);
      if (letter) hits[i]!.push({ partition: p.index, letter });
    }
  }
  if (selectors === undefined) return { found: everything, missing: [], ambiguous: [] };
  return {
    found: hits.filter((h) => h.length === 1).flat(),
    missing: selectors.filter((_, i) => hits[i]!.length === 0).map(selectorText),
    ambiguous: selectors.flatMap((s, i) =>
      hits[i]!.length > 1 ? [{ id: s.id, partitions: hits[i]!.map((h) => h.partition) }] : []
    ),
  };
}

/** One replayed entry and its partition. */
export interface PartitionReplayed extends Replayed {
  /** The partition whose DLQ held it and whose stream it went back to. */
  readonly partition: number;
}

/** Moves `letters` back to their partitions' streams; those gone meanwhile are `missing`. */
export async function replayPartitionedDeadLetters(
  redis: RedisClient,
  partitions: readonly StreamPartition[],
  letters: readonly PartitionDeadLetter[],
): Promise<{ replayed: PartitionReplayed[]; missing: string[] }> {
  const replayed: PartitionReplayed[] = [];
  const missing: string[] = [];
  for (const p of partitions) {
    const ids = letters.filter((l) => l.partition === p.index).map((l) => l.letter.id);
    if (ids.length === 0) continue;
    const result = await replayDeadLetters(redis, p, ids);
    for (const r of result.replayed) replayed.push({ ...r, partition: p.index });
    missing.push(...result.missing);
  }
  return { replayed, missing };
}

/** Deletes `letters` where they are (`undefined`: empties every DLQ); per partition, how many. */
export async function purgePartitionedDeadLetters(
  redis: RedisClient,
  partitions: readonly StreamPartition[],
  letters: readonly PartitionDeadLetter[] | undefined,
): Promise<PartitionCount[]> {
  const counts: PartitionCount[] = [];
  for (const p of partitions) {
    const ids = letters?.filter((l) => l.partition === p.index).map((l) => l.letter.id);
    const count = ids === undefined
      ? await purgeAllDeadLetters(redis, p)
      : ids.length === 0
      ? 0
      : await purgeDeadLetters(redis, p, ids);
    counts.push({ partition: p.index, stream: p.dlqStream, count });
  }
  return counts;
}
