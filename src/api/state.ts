/**
 * Read and reset the producer's state (one cursor per mailbox) and look at
 * the stream and its consumer groups, from code.
 *
 * @module
 */

import {
  type Cursor,
  type CursorReset,
  listCursors as list,
  readCursor as read,
  resetCursor as reset,
} from "../state/cursor.ts";
import type { MailboxRef } from "../redis/keys.ts";
import {
  type InspectOptions,
  inspectStream as inspect,
  type StreamReport,
} from "../stream/inspect.ts";
import { redisClientOf, type RedisConnection } from "./redis_connection.ts";

/** The cursor of one mailbox, or null when the producer has not seen it yet. */
export function readCursor(redis: RedisConnection, ref: MailboxRef): Promise<Cursor | null> {
  return read(redisClientOf(redis), ref);
}

/** Every mailbox's cursor. */
export function listCursors(redis: RedisConnection): Promise<Cursor[]> {
  return list(redisClientOf(redis));
}

/**
 * Moves a mailbox's cursor back to `toUid` (default 0: everything is fetched
 * again; the workers' processed-records skip what was already handled).
 */
export function resetCursor(
  redis: RedisConnection,
  ref: MailboxRef,
  toUid = 0,
): Promise<CursorReset> {
  return reset(redisClientOf(redis), ref, toUid);
}

/**
 * The stream's length, first and last entries, consumer groups, lag and
 * pending entries (what `ingest stream inspect` prints).
 *
 * @example
 * ```ts
 * import { connectRedis, inspectStream, loadConfig } from "./mod.ts";
 * const config = loadConfig({ env: Deno.env.toObject() });
 * const redis = await connectRedis(config.redis);
 * console.log(await inspectStream(redis, {
 *   stream: config.redis.streamName,
 *   dlqStream: config.redis.dlqStreamName,
 * }));
 * ```
 */
export function inspectStream(
  redis: RedisConnection,
  options: InspectOptions,
): Promise<StreamReport> {
  return inspect(redisClientOf(redis), options);
}
