/**
 * Fleet membership: each process keeps an entry in
 * `ingest_fleet:{fleet}:members` (ZSET process id → heartbeat expiry in ms)
 * and counts the live ones to compute its fair share. A process killed with
 * SIGKILL drops out once its expiry passes; a process that shuts down
 * removes itself at once. Expiry compares against the writer's clock, so
 * fleet hosts need clocks in sync to well under the lease TTL (NTP).
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { LuaScript } from "../redis/lua_script.ts";
import { FLEET_MEMBERS_KEY } from "./fleet_keys.ts";

// KEYS: members. ARGV: process id, now ms, TTL ms. Returns the live members' count.
const HEARTBEAT = new LuaScript(`
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
return redis.call('ZCARD', KEYS[1])
`);

/** One live process of the fleet. */
export interface FleetMember {
  readonly processId: string;
  /** When its heartbeat runs out unless renewed (ms since the epoch). */
  readonly expiresAt: number;
}

/** Marks `processId` alive for `ttlMs`, drops expired members; returns the live count. */
export async function heartbeat(
  redis: RedisClient,
  processId: string,
  ttlMs: number,
  now: number = Date.now(),
): Promise<number> {
  return Number(await HEARTBEAT.run(redis, [FLEET_MEMBERS_KEY], [processId, now, ttlMs]));
}

/** Removes `processId` from the fleet (graceful shutdown). */
export async function leaveFleet(redis: RedisClient, processId: string): Promise<void> {
  await redis.zrem(FLEET_MEMBERS_KEY, processId);
}

/** The live members, by process id. */
export async function listMembers(
  redis: RedisClient,
  now: number = Date.now(),
): Promise<FleetMember[]> {
  const flat = await redis.zrangebyscore(FLEET_MEMBERS_KEY, now, "+inf", "WITHSCORES");
  const members: FleetMember[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    members.push({ processId: flat[i]!, expiresAt: Number(flat[i + 1]) });
  }
  return members.sort((a, b) => a.processId.localeCompare(b.processId));
}
