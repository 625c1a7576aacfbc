/**
 * The three ways an entry leaves a worker's hands, each one atomic Lua script:
 * acknowledged (with its processed-record; several entries per call when
 * their handlers finished together), dead-lettered, or scheduled for a
 * retry. Each script also clears or writes the entry's attempts and retry
 * records, so no state is left behind for a settled entry.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { deadLetterFields, type DeadLetterInfo } from "../dlq/dead_letter.ts";
import { LuaScript } from "../redis/lua_script.ts";
import type { StreamFieldValue } from "../redis/reply.ts";
import { type AttemptRecord, encodeAttempts } from "./attempts.ts";
import type { GroupKeys } from "./group_keys.ts";

// KEYS: stream, attempts, retry schedule, processed key.
// ARGV: group, id, ttl seconds, processed-record value ('' = write none).
const ACKNOWLEDGE = new LuaScript(`
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[4], ARGV[4], 'EX', ARGV[3])
end
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return acked
`);

/**
 * What the processed-record of an entry says besides the entry's id (its
 * value in Redis is the JSON `{ entry_id, consumer, at }`; the id is the
 * {@link ProcessedAck}'s).
 */
export interface ProcessedRecord {
  readonly consumer: string;
  /** ISO time the sink succeeded. */
  readonly at: string;
}

// KEYS: stream, attempts, retry schedule, then one processed key per entry.
// ARGV: group, ttl seconds, the consumer as a JSON string, ISO time, then each entry's id.
// ACKNOWLEDGE for many entries at once; each entry's record and XACK still go together
// (the whole script is atomic). The record is built here from its parts, byte for byte
// JSON.stringify({ entry_id, consumer, at }) (ids and ISO times need no escaping), and what all
// entries of a call share (consumer, time) is sent once, so the client sends ~20 bytes per entry
// besides the key instead of ~120. The XACK, and the HDEL and ZREM of the entries' attempts and
// retry records, take all the ids at once: one call per batch instead of one per entry (a Lua
// call costs Redis about a µs). The worker's TickBatch of acknowledgements caps a batch at 256
// entries, well within unpack()'s limit.
const ACKNOWLEDGE_MANY = new LuaScript(`
local ids = {}
local tail = '","consumer":' .. ARGV[3] .. ',"at":"' .. ARGV[4] .. '"}'
for i = 4, #KEYS do
  local id = ARGV[i + 1]
  redis.call('SET', KEYS[i], '{"entry_id":"' .. id .. tail, 'EX', ARGV[2])
  ids[i - 3] = id
end
redis.call('HDEL', KEYS[2], unpack(ids))
redis.call('ZREM', KEYS[3], unpack(ids))
return redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
`);

/** One entry of {@link acknowledgeProcessedMany}. */
export interface ProcessedAck {
  readonly id: string;
  readonly idempotencyKey: string;
  readonly ttlSeconds: number;
  readonly record: ProcessedRecord;
}

/**
 * Writes the processed-record of each entry and acknowledges it, each
 * entry's two together, for several entries in one script: answers how many
 * of them were still pending (an entry another consumer settled meanwhile
 * is not). Entries with another TTL, consumer or time than the first (the
 * worker gives all of a batch the same) go in a script call of their own.
 */
export async function acknowledgeProcessedMany(
  redis: RedisClient,
  keys: GroupKeys,
  acks: readonly ProcessedAck[],
): Promise<number> {
  if (acks.length === 0) return 0;
  const first = acks[0]!;
  const same = (a: ProcessedAck) =>
    a.ttlSeconds === first.ttlSeconds && a.record.consumer === first.record.consumer &&
    a.record.at === first.record.at;
  if (!acks.every(same)) {
    const others = acks.filter((a) => !same(a));
    const [mine, theirs] = await Promise.all([
      acknowledgeProcessedMany(redis, keys, acks.filter(same)),
      acknowledgeProcessedMany(redis, keys, others),
    ]);
    return mine + theirs;
  }
  const keyList = [keys.stream, keys.attempts, keys.retrySchedule];
  const args: (string | number)[] = [
    keys.group,
    first.ttlSeconds,
    JSON.stringify(first.record.consumer),
    first.record.at,
  ];
  for (const ack of acks) {
    keyList.push(keys.processed(ack.idempotencyKey));
    args.push(ack.id);
  }
  return await ACKNOWLEDGE_MANY.run(redis, keyList, args) as number;
}

/** Whether each of `idempotencyKeys` has a processed-record, in one MGET. */
export async function processedRecordsExist(
  redis: RedisClient,
  keys: GroupKeys,
  idempotencyKeys: readonly string[],
): Promise<boolean[]> {
  if (idempotencyKeys.length === 0) return [];
  const values = await redis.mget(...idempotencyKeys.map((key) => keys.processed(key)));
  return values.map((value) => value !== null);
}

/** Acknowledges `id` without a processed-record (a duplicate of a processed entry). */
export async function acknowledgeDuplicate(
  redis: RedisClient,
  keys: GroupKeys,
  id: string,
  idempotencyKey: string,
): Promise<boolean> {
  const acked = await ACKNOWLEDGE.run(
    redis,
    [keys.stream, keys.attempts, keys.retrySchedule, keys.processed(idempotencyKey)],
    [keys.group, id, 0, ""],
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
