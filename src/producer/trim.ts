/**
 * Stream trimming that never drops unprocessed mail. `REDIS_MAX_STREAM_LENGTH`
 * is a retention target: entries beyond it are removed oldest first, but only
 * below every consumer group's safe point (its oldest pending entry, or just
 * after its last-delivered entry when nothing is pending). A stream without
 * groups is never trimmed. One script, so the safe point cannot move between
 * reading it and trimming.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { LuaScript } from "../redis/lua_script.ts";

const TRIM = new LuaScript(`
local stream = KEYS[1]
local excess = redis.call('XLEN', stream) - tonumber(ARGV[1])
if excess <= 0 then return 0 end
excess = math.min(excess, tonumber(ARGV[2]))
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function before(a, b)
  local ams, aseq = parse(a)
  local bms, bseq = parse(b)
  return ams < bms or (ams == bms and aseq < bseq)
end
local groups = redis.call('XINFO', 'GROUPS', stream)
if #groups == 0 then return 0 end
local safe = nil
for _, group in ipairs(groups) do
  local info = {}
  for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
  local point
  if tonumber(info['pending']) > 0 then
    point = redis.call('XPENDING', stream, info['name'])[2]
  else
    local ms, seq = string.match(info['last-delivered-id'], '^(%d+)-(%d+)$')
    point = ms .. '-' .. tostring(tonumber(seq) + 1)
  end
  if safe == nil or before(point, safe) then safe = point end
end
local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', excess + 1)
local keep = oldest[excess + 1][1]
if before(keep, safe) then safe = keep end
return redis.call('XTRIM', stream, 'MINID', safe)
`);

/** Options of {@link trimStream}. */
export interface TrimOptions {
  /** Retention target (REDIS_MAX_STREAM_LENGTH). */
  maxLength: number;
  /** Most entries removed by one call, to keep the script short. Default 500. */
  maxRemoved?: number;
}

/** Trims acknowledged entries beyond the retention target; returns how many were removed. */
export async function trimStream(
  redis: RedisClient,
  stream: string,
  options: TrimOptions,
): Promise<number> {
  const reply = await TRIM.run(redis, [stream], [options.maxLength, options.maxRemoved ?? 500]);
  return Number(reply ?? 0);
}
