/**
 * The dead-letter queue from code: list, read, replay and purge the entries
 * the workers gave up on (what `ingest dlq` does).
 *
 * @module
 */

import type { DeadLetter } from "../dlq/dead_letter.ts";
import {
  allDeadLetterIds as allIds,
  type DeadLetterPage,
  type DeadLetterPageOptions,
  type DeadLetterStreams,
  listDeadLetters as list,
  purgeAllDeadLetters as purgeAll,
  purgeDeadLetters as purge,
  readDeadLetters as read,
  replayDeadLetters as replay,
  type ReplayResult,
} from "../dlq/dead_letter_queue.ts";
import { redisClientOf, type RedisConnection } from "./redis_connection.ts";

/**
 * Reads up to `limit` dead letters, oldest first, and the DLQ's length; with
 * `options`, skips `offset` entries first and keeps only one `reason` (the
 * total then counts that reason).
 */
export function listDeadLetters(
  redis: RedisConnection,
  streams: DeadLetterStreams,
  limit: number,
  options: DeadLetterPageOptions = {},
): Promise<DeadLetterPage> {
  return list(redisClientOf(redis), streams, limit, options);
}

/** Reads the dead letters with the given ids; ids not in the DLQ are in `missing`. */
export function readDeadLetters(
  redis: RedisConnection,
  streams: DeadLetterStreams,
  ids: readonly string[],
): Promise<{ found: DeadLetter[]; missing: string[] }> {
  return read(redisClientOf(redis), streams, ids);
}

/** The ids of every dead letter, oldest first. */
export function allDeadLetterIds(
  redis: RedisConnection,
  streams: DeadLetterStreams,
): Promise<string[]> {
  return allIds(redisClientOf(redis), streams);
}

/**
 * Moves the dead letters `ids` back to the main stream, each atomically (its
 * attempts start again).
 *
 * @example
 * ```ts
 * import { allDeadLetterIds, connectRedis, loadConfig, replayDeadLetters } from "./mod.ts";
 * const config = loadConfig({ env: Deno.env.toObject() });
 * const redis = await connectRedis(config.redis);
 * const streams = { stream: config.redis.streamName, dlqStream: config.redis.dlqStreamName };
 * const result = await replayDeadLetters(redis, streams, await allDeadLetterIds(redis, streams));
 * console.log(`${result.replayed.length} replayed`);
 * ```
 */
export function replayDeadLetters(
  redis: RedisConnection,
  streams: DeadLetterStreams,
  ids: readonly string[],
): Promise<ReplayResult> {
  return replay(redisClientOf(redis), streams, ids);
}

/** Deletes the dead letters `ids`; returns how many existed. */
export function purgeDeadLetters(
  redis: RedisConnection,
  streams: DeadLetterStreams,
  ids: readonly string[],
): Promise<number> {
  return purge(redisClientOf(redis), streams, ids);
}

/** Empties the DLQ (the key stays, length 0); returns how many entries were removed. */
export function purgeAllDeadLetters(
  redis: RedisConnection,
  streams: DeadLetterStreams,
): Promise<number> {
  return purgeAll(redisClientOf(redis), streams);
}
