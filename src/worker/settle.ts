/**
 * The three ways an entry leaves a worker's hands, each one atomic Lua script:
 * acknowledged (with its processed-record; several entries per call when
 * their handlers finished together), dead-lettered, or scheduled for a
 * retry. Each script also clears or writes the entry's attempts and retry
 * records, so no state is left behind for a settled entry. Also the check of
 * the processed-records and their pruning: the records of a group are one
 * sorted set (`processedSetKey`), idempotency key → expiry in Unix ms.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { deadLetterFields, type DeadLetterInfo } from "../dlq/dead_letter.ts";
import { LuaScript } from "../redis/lua_script.ts";
import type { StreamFieldValue } from "../redis/reply.ts";
import { type AttemptRecord, encodeAttempts } from "./attempts.ts";
import type { GroupKeys } from "./group_keys.ts";

// KEYS: stream, attempts, retry schedule. ARGV: group, id.
// A duplicate of a processed entry: acknowledged, with no record written.
const ACKNOWLEDGE = new LuaScript(`
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return acked
`);

// KEYS: stream, attempts, retry schedule, processed set.
// ARGV: group, n, then the n entry ids, then n pairs: expiry ms, idempotency key.
// Each entry's record and XACK go together (the whole script is atomic). The records are one ZADD
// of the pairs as sent (GT: a record is never shortened); the XACK, and the HDEL and ZREM of the
// entries' attempts and retry records, take all the ids at once: one call each per batch, no table
// built in Lua. Against one SET with an expiry per entry (release 0.1.0), this took Redis about
// 2 µs less CPU an entry in scripts/bench_worker.ts (docs/WORKER_PROFILE.md, wave 20). The
// worker's TickBatch of acknowledgements caps a batch at 256 entries, well within unpack()'s limit.
const ACKNOWLEDGE_MANY = new LuaScript(`
local last = 2 + tonumber(ARGV[2])
redis.call('ZADD', KEYS[4], 'GT', unpack(ARGV, last + 1))
redis.call('HDEL', KEYS[2], unpack(ARGV, 3, last))
redis.call('ZREM', KEYS[3], unpack(ARGV, 3, last))
return redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 3, last))
`);

/** One entry of {@link acknowledgeProcessedMany}. */
export interface ProcessedAck {
  readonly id: string;
  readonly idempotencyKey: string;
  /** When the entry's processed-record expires (Unix ms). */
  readonly expiresAtMs: number;
}

/**
 * Writes the processed-record of each entry and acknowledges it, each
 * entry's two together, for several entries in one script: answers how many
 * of them were still pending (an entry another consumer settled meanwhile
 * is not).
 */
export async function acknowledgeProcessedMany(
  redis: RedisClient,
  keys: GroupKeys,
  acks: readonly ProcessedAck[],
): Promise<number> {
  if (acks.length === 0) return 0;
  const args: (string | number)[] = [keys.group, acks.length];
  for (const ack of acks) args.push(ack.id);
  for (const ack of acks) args.push(Math.round(ack.expiresAtMs), ack.idempotencyKey);
  return await ACKNOWLEDGE_MANY.run(
    redis,
    [keys.stream, keys.attempts, keys.retrySchedule, keys.processed],
    args,
  ) as number;
}

/**
 * Whether each of `idempotencyKeys` has a processed-record that has not
 * expired at `nowMs`, in one ZMSCORE. (Expired records are removed by
 * {@link pruneExpiredRecords}, at most a minute late; until then they are
 * read as absent here.)
 */
export async function processedRecordsExist(
  redis: RedisClient,
  keys: GroupKeys,
  idempotencyKeys: readonly string[],
  nowMs: number,
): Promise<boolean[]> {
  if (idempotencyKeys.length === 0) return [];
  const scores = await redis.call("ZMSCORE", keys.processed, ...idempotencyKeys) as (
    | string
    | null
  )[];
  return scores.map((score) => score !== null && Number(score) > nowMs);
}

// KEYS: processed set. ARGV: now ms, most records to remove.
// Bounded, so that a day's worth of records expiring at once does not hold Redis for long.
const PRUNE_EXPIRED = new LuaScript(`
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #expired == 0 then return 0 end
return redis.call('ZREM', KEYS[1], unpack(expired))
`);

/** The most expired records one {@link pruneExpiredRecords} script call removes. */
export const PRUNE_BATCH = 1000;

/**
 * Removes the processed-records expired at `nowMs`, {@link PRUNE_BATCH} per
 * script call, at most `maxBatches` calls; returns how many were removed.
 */
export async function pruneExpiredRecords(
  redis: RedisClient,
  keys: GroupKeys,
  nowMs: number,
  maxBatches = 100,
): Promise<number> {
  let removed = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const count = await PRUNE_EXPIRED.run(redis, [keys.processed], [
      Math.floor(nowMs),
      PRUNE_BATCH,
    ]) as number;
    removed += count;
    if (count < PRUNE_BATCH) break;
  }
  return removed;
}

/** Acknowledges `id` without a processed-record (a duplicate of a processed entry). */
export async function acknowledgeDuplicate(
  redis: RedisClient,
  keys: GroupKeys,
  id: string,
): Promise<boolean> {
  const acked = await ACKNOWLEDGE.run(
    redis,
    [keys.stream, keys.attempts, keys.retrySchedule],
    [keys.group, id],
  );
  return acked === 1;
}

// KEYS: stream, dlq, attempts, retry schedule. ARGV: group, id, DLQ fields...
// The XACK goes first: when the entry is no longer pending (another consumer
// settled it), nothing is added to the DLQ, so an entry is dead-lettered once.
const DEAD_LETTER = new LuaScript(`
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
if acked == 0 then return false end
return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
`);

/**
 * Moves entry `id` (with its original flat `fields`) to the DLQ and
 * acknowledges it on the main stream, atomically. Returns the DLQ entry id,
 * or `undefined` when the entry was no longer pending.
 */
export async function deadLetter(
  redis: RedisClient,
  keys: GroupKeys,
  id: string,
  fields: readonly StreamFieldValue[],
  info: DeadLetterInfo,
): Promise<string | undefined> {
  const reply = await DEAD_LETTER.run(
    redis,
    [keys.stream, keys.dlqStream, keys.attempts, keys.retrySchedule],
    [keys.group, id, ...deadLetterFields(fields, info)],
  );
  return typeof reply === "string" ? reply : undefined;
}

// KEYS: stream, attempts, retry schedule. ARGV: group, id, due ms, attempts JSON.
// Only an entry still pending in the group is scheduled.
const SCHEDULE_RETRY = new LuaScript(`
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #pending == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return 1
`);

/**
 * Records the failure and schedules `id` for another attempt at `dueMs`
 * (Unix ms). The entry stays pending in the group; whichever worker finds it
 * due first claims and runs it. Returns false when it was no longer pending.
 */
export async function scheduleRetry(
  redis: RedisClient,
  keys: GroupKeys,
  id: string,
  dueMs: number,
  record: AttemptRecord,
): Promise<boolean> {
  const scheduled = await SCHEDULE_RETRY.run(
    redis,
    [keys.stream, keys.attempts, keys.retrySchedule],
    [keys.group, id, Math.round(dueMs), encodeAttempts(record)],
  );
  return scheduled === 1;
}
