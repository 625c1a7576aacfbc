/**
 * A read-only look at stream entries with their payloads (`ingest stream
 * peek`): XRANGE/XREVRANGE only, so no consumer group is created, read from
 * or acknowledged, and nothing a worker will do changes.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { InvalidArgumentError } from "../errors.ts";
import { entryFields } from "../redis/reply.ts";
import { decodeEntry, EntryFormatError } from "./entry.ts";
import { compareStreamIds, type StreamPartition } from "./partition_set.ts";

/** One entry as {@link peekStream} shows it. */
export interface PeekedEntry {
  /** Entry id. */
  readonly id: string;
  /** `type` field (`email`, `mailbox_reset`); `null` when absent. */
  readonly type: string | null;
  /** `idempotency_key` field; `null` when absent. */
  readonly idempotencyKey: string | null;
  /** The parsed payload; the raw `payload` text when it is not JSON; `null` when absent. */
  readonly payload: unknown;
  /** Why a worker would dead-letter this entry (ENTRY_MALFORMED); `null` when it decodes. */
  readonly problem: string | null;
}

/** Options of {@link peekStream}. */
export interface PeekOptions {
  /** Stream to read. */
  readonly stream: string;
  /** How many entries, at least 1. */
  readonly count: number;
  /**
   * Read forward from this id (inclusive; `-` is the first entry). Default:
   * the newest `count` entries.
   */
  readonly from?: string;
}

/** The entries, oldest first; an empty list when the stream does not exist. */
export async function peekStream(redis: RedisClient, options: PeekOptions): Promise<PeekedEntry[]> {
  if (!Number.isInteger(options.count) || options.count < 1) {
    throw new InvalidArgumentError(
      `Cannot peek: count must be a whole number >= 1, current value is ${options.count}`,
    );
  }
  const raw = options.from === undefined
    ? (await redis.xrevrange(options.stream, "+", "-", "COUNT", options.count)).reverse()
    : await redis.xrange(options.stream, options.from, "+", "COUNT", options.count);
  return raw.map(([id, list]) => peeked(id, entryFields(list)));
}

/** A peeked entry and the partition it is in. */
export interface PartitionPeekedEntry extends PeekedEntry {
  /** The partition's index (0 without partitioning). */
  readonly partition: number;
}

/**
 * {@link peekStream} over `partitions` (`options.stream` unused): the newest
 * `count` of all partitions, or the first `count` from `from` on, by id.
 */
export async function peekPartitions(
  redis: RedisClient,
  partitions: readonly StreamPartition[],
  options: Omit<PeekOptions, "stream">,
): Promise<PartitionPeekedEntry[]> {
  const pages = await Promise.all(
    partitions.map((p) => peekStream(redis, { ...options, stream: p.stream })),
  );
  const all = pages.flatMap((page, i) =>
    page.map((entry) => ({ ...entry, partition: partitions[i]!.index }))
  ).sort((a, b) => compareStreamIds(a.id, b.id) || a.partition - b.partition);
  return options.from === undefined ? all.slice(-options.count) : all.slice(0, options.count);
}

function peeked(id: string, fields: Record<string, string>): PeekedEntry {
  let problem: string | null = null;
  try {
    decodeEntry(fields);
  } catch (error) {
    if (!(error instanceof EntryFormatError)) throw error;
    problem = error.message;
  }
  return {
    id,
    type: fields.type ?? null,
    idempotencyKey: fields.idempotency_key ?? null,
    payload: parsePayload(fields.payload),
    problem,
  };
}

function parsePayload(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
