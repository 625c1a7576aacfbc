/**
 * How a worker takes entries that are already pending in the group: retries
 * that have come due, entries stalled on a consumer that stopped (visibility
 * timeout), and how it keeps its own in-flight entries from looking stalled.
 * Each is one Lua script, so two workers never claim the same entry at once.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type { RedisClient } from "../redis/client.ts";
import { LuaScript } from "../redis/lua_script.ts";
import { fieldsAsRead, fieldText, type StreamFieldValue } from "../redis/reply.ts";
import { type AttemptRecord, decodeAttempts } from "./attempts.ts";
import type { GroupKeys } from "./group_keys.ts";

/** An entry claimed by this consumer. */
export interface ClaimedEntry {
  readonly id: string;
  /** Flat field pairs as read ({@link claimedFields}): the payload as its bytes. */
  readonly fields: readonly StreamFieldValue[];
  /** How many times the group has delivered it, this delivery included. */
  readonly deliveries: number;
  /** Its failure history, when it failed before. */
  readonly attempts: AttemptRecord | undefined;
}

/**
 * An entry's fields read as bytes, as a {@link ClaimedEntry} holds them: text,
 * but the `payload` value kept as its bytes while the entry waits in hand.
 * Bytes live outside V8's heap, where a young-generation collection does not
 * copy them (text held that long is copied and promoted; with the 8 MB young
 * generation `ingest` runs with, this took the file-sink worker's V8 helper
 * threads from 2.5–3.0 to 1.5–2.0 µs an entry in 3 pairs,
 * docs/WORKER_PROFILE.md, wave 12), and a payload that is not UTF-8 reaches
 * the DLQ with its bytes unchanged.
 */
export function claimedFields(fields: readonly Buffer[]): StreamFieldValue[] {
  return fieldsAsRead(fields, "payload");
}

/** Claimed rows as a script run for bytes returns them (see `CLAIMED_ROW`). */
type ClaimReply = [id: Buffer, fields: Buffer[], deliveries: number, attempts: Buffer | null][];

function toClaimed(reply: ClaimReply): ClaimedEntry[] {
  return reply.map(([id, fields, deliveries, attempts]) => ({
    id: fieldText(id),
    fields: claimedFields(fields),
    deliveries: Number(deliveries),
    attempts: decodeAttempts(attempts === null ? null : fieldText(attempts)),
  }));
}

// The one place an entry's attempts record is read: together with its claim,
// in the claiming script (KEYS[3] = attempts). A row is {id, fields,
// deliveries with this one, attempts JSON or false}; see toClaimed.
const CLAIMED_ROW = `
local function claimedRow(id, fields, delivered)
  return {id, fields, delivered + 1, redis.call('HGET', KEYS[3], id)}
end
`;

// KEYS: stream, retry schedule, attempts. ARGV: group, consumer, now ms, count.
// Removes due ids from the schedule and claims those still pending; XCLAIM
// (without JUSTID) counts the delivery. Ids no longer pending lose their record.
const TAKE_DUE = new LuaScript(
  CLAIMED_ROW + `
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3], 'LIMIT', 0, ARGV[4])
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[2], id)
  local info = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  local claimed = {}
  if #info > 0 then
    claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
  end
  if #claimed > 0 and claimed[1] then
    table.insert(out, claimedRow(id, claimed[1][2], info[1][4]))
  else
    redis.call('HDEL', KEYS[3], id)
  end
end
return out
`,
);

/** Claims up to `count` entries whose retry is due at `nowMs`. */
export async function takeDueRetries(
  redis: RedisClient,
  keys: GroupKeys,
  consumer: string,
  nowMs: number,
  count: number,
): Promise<ClaimedEntry[]> {
  const reply = await TAKE_DUE.runForBytes(
    redis,
    [keys.stream, keys.retrySchedule, keys.attempts],
    [keys.group, consumer, Math.floor(nowMs), count],
  );
  return toClaimed(reply as ClaimReply);
}

/** Due time (Unix ms) of the earliest scheduled retry, or `undefined` when none. */
export async function nextRetryDue(
  redis: RedisClient,
  keys: GroupKeys,
): Promise<number | undefined> {
  const [, score] = await redis.zrange(keys.retrySchedule, 0, 0, "WITHSCORES");
  return score === undefined ? undefined : Number(score);
}

// KEYS: stream, retry schedule, attempts.
// ARGV: group, consumer, min idle ms, count, start id (inclusive, or '(' exclusive),
// then the ids this consumer is still handling or settling.
// Claims entries idle for longer than the visibility timeout, except those
// waiting in the retry schedule (idle on purpose) and this consumer's own live
// entries (a handler that succeeded but could not settle yet must not run
// again). Returns {last id seen or false, how many pending entries were looked
// at, claimed entries}.
const RECLAIM_STALLED = new LuaScript(
  CLAIMED_ROW + `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], ARGV[5], '+', ARGV[4])
local live = {}
for i = 6, #ARGV do live[ARGV[i]] = true end
local out = {}
local last = false
for _, p in ipairs(pending) do
  local id = p[1]
  last = id
  if not (p[2] == ARGV[2] and live[id]) and not redis.call('ZSCORE', KEYS[2], id) then
    local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], id)
    if #claimed > 0 and claimed[1] then
      table.insert(out, claimedRow(id, claimed[1][2], p[4]))
    end
  end
end
return {last, #pending, out}
`,
);

/** The result of one {@link reclaimStalled} pass. */
export interface ReclaimPass {
  readonly claimed: ClaimedEntry[];
  /** Where the next pass starts; `-` once the whole pending list was seen. */
  readonly nextStart: string;
}

/**
 * Claims up to `count` entries pending for longer than `minIdleMs` on any
 * consumer (one that crashed, hung or lost its connection), scanning the
 * pending list from `start` (`-` for the beginning). `live` are the ids
 * `consumer` itself is still handling or settling: they are never claimed.
 */
export async function reclaimStalled(
  redis: RedisClient,
  keys: GroupKeys,
  consumer: string,
  minIdleMs: number,
  count: number,
  start: string,
  live: readonly string[] = [],
): Promise<ReclaimPass> {
  const [last, seen, claimed] = await RECLAIM_STALLED.runForBytes(
    redis,
    [keys.stream, keys.retrySchedule, keys.attempts],
    [keys.group, consumer, Math.floor(minIdleMs), count, start, ...live],
  ) as [Buffer | null, number, ClaimReply];
  const nextStart = seen < count || last === null ? "-" : `(${fieldText(last)}`;
  return { claimed: toClaimed(claimed), nextStart };
}

// KEYS: stream, retry schedule, attempts. ARGV: group, consumer, count, then the
// ids this consumer holds. Walks the consumer's own pending list in pages and
// claims (idle 0) up to count entries it does not hold and that are not in the
// retry schedule. Returns the claimed entries.
const RECLAIM_OWN_ORPHANS = new LuaScript(
  CLAIMED_ROW + `
local live = {}
for i = 4, #ARGV do live[ARGV[i]] = true end
local want = tonumber(ARGV[3])
local out = {}
local start = '-'
while #out < want do
  local page = redis.call('XPENDING', KEYS[1], ARGV[1], start, '+', 200, ARGV[2])
  for _, p in ipairs(page) do
    local id = p[1]
    if #out < want and not live[id] and not redis.call('ZSCORE', KEYS[2], id) then
      local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
      if #claimed > 0 and claimed[1] then table.insert(out, claimedRow(id, claimed[1][2], p[4])) end
    end
    start = '(' .. id
  end
  if #page < 200 then break end
end
return out
`,
);

/**
 * Claims up to `count` of `consumer`'s own pending entries that it does not
 * hold (`live` are those it does), at once and whatever their idle time:
 * entries a read delivered whose reply was lost with the connection (a
 * failover, a restart), or that an earlier process of the same consumer name
 * left. Without this they would wait out the visibility timeout. Entries in
 * the retry schedule are left to it.
 */
export async function reclaimOwnOrphans(
  redis: RedisClient,
  keys: GroupKeys,
  consumer: string,
  count: number,
  live: readonly string[],
): Promise<ClaimedEntry[]> {
  const claimed = await RECLAIM_OWN_ORPHANS.runForBytes(
    redis,
    [keys.stream, keys.retrySchedule, keys.attempts],
    [keys.group, consumer, count, ...live],
  ) as ClaimReply;
  return toClaimed(claimed);
}

// KEYS: stream. ARGV: group, consumer, ids... Resets the idle time of the ids
// this consumer still owns (JUSTID: the delivery count is not increased).
const EXTEND_LEASES = new LuaScript(`
local kept = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #p > 0 and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    kept = kept + 1
  end
end
return kept
`);

/**
 * Marks the in-flight entries `ids` as recently touched by `consumer`, so a
 * handler running longer than the visibility timeout is not taken over by
 * another worker. Returns how many were still owned by `consumer`.
 */
export async function extendLeases(
  redis: RedisClient,
  keys: GroupKeys,
  consumer: string,
  ids: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  return Number(await EXTEND_LEASES.run(redis, [keys.stream], [keys.group, consumer, ...ids]));
}

// KEYS: stream. ARGV: group, min idle ms, this consumer's name.
// XINFO and DELCONSUMER in one script: a consumer cannot receive an entry
// between the check "nothing pending" and its removal (which would drop it).
const PRUNE_CONSUMERS = new LuaScript(`
local removed = {}
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['name'] ~= ARGV[3] and info['pending'] == 0 and info['idle'] > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    table.insert(removed, info['name'])
  end
end
return removed
`);

/** Removes consumers idle for more than `minIdleMs` with nothing pending; returns their names. */
export async function pruneIdleConsumers(
  redis: RedisClient,
  keys: GroupKeys,
  consumer: string,
  minIdleMs: number,
): Promise<string[]> {
  return await PRUNE_CONSUMERS.run(
    redis,
    [keys.stream],
    [keys.group, Math.floor(minIdleMs), consumer],
  ) as string[];
}

// KEYS: stream. ARGV: group, consumer. Removes the consumer when nothing is pending on it.
// (DELCONSUMER answers the consumer's pending count, always 0 here: return 1 instead.)
const LEAVE_GROUP = new LuaScript(`
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
`);

/**
 * Removes `consumer` from the group if nothing is pending on it (a clean
 * stop), so short-lived `--drain` runs do not pile up consumers. Returns
 * whether it was removed.
 */
export async function leaveGroup(
  redis: RedisClient,
  keys: GroupKeys,
  consumer: string,
): Promise<boolean> {
  const reply = await LEAVE_GROUP.run(redis, [keys.stream], [keys.group, consumer]);
  return reply !== 0;
}
