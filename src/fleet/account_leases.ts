/**
 * Per-account leases of a fleet: `ingest_fleet:{fleet}:owner:<account>` holds
 * the owning process id with a TTL. A process claims free accounts (SET NX),
 * renews the ones it holds every tick and releases them on shutdown or when
 * it holds more than its fair share. Each call is one script over keys of
 * the `{fleet}` slot, so it runs on Redis Cluster and stays atomic.
 *
 * The account lease decides which process follows an account; the
 * per-mailbox lease and the fencing inside the commit (src/producer/lease.ts,
 * commit.ts) still decide who may publish, so an overlap during a handover
 * can never publish twice.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { LuaScript } from "../redis/lua_script.ts";
import { fleetOwnerKey } from "./fleet_keys.ts";

// KEYS: owner keys of candidates. ARGV: process id, TTL ms, most to claim.
// Returns the 1-based indexes of the keys claimed.
const CLAIM = new LuaScript(`
local claimed = {}
local most = tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  if #claimed >= most then break end
  if redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2]) then
    claimed[#claimed + 1] = i
  end
end
return claimed
`);

// KEYS: owner keys held. ARGV: process id, TTL ms. Returns 1 (renewed) or 0 (lost) per key.
const RENEW = new LuaScript(`
local held = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    held[i] = 1
  else
    held[i] = 0
  end
end
return held
`);

// KEYS: owner keys. ARGV: process id. Deletes the ones still held.
const RELEASE = new LuaScript(`
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    released = released + redis.call('DEL', key)
  end
end
return released
`);

/** Keys per script call: bounded so one call never blocks Redis for long. */
const CHUNK = 200;

/** Claims up to `most` of `candidates` (in order) for `processId`; returns those claimed. */
export async function claimAccounts(
  redis: RedisClient,
  processId: string,
  candidates: readonly string[],
  most: number,
  ttlMs: number,
): Promise<string[]> {
  const claimed: string[] = [];
  for (let start = 0; start < candidates.length && claimed.length < most; start += CHUNK) {
    const chunk = candidates.slice(start, start + CHUNK);
    const reply = await CLAIM.run(redis, chunk.map(fleetOwnerKey), [
      processId,
      ttlMs,
      most - claimed.length,
    ]) as number[];
    for (const index of reply) claimed.push(chunk[index - 1]!);
  }
  return claimed;
}

/** Renews the leases of `accounts`; returns those no longer held by `processId`. */
export async function renewAccounts(
  redis: RedisClient,
  processId: string,
  accounts: readonly string[],
  ttlMs: number,
): Promise<string[]> {
  const lost: string[] = [];
  for (let start = 0; start < accounts.length; start += CHUNK) {
    const chunk = accounts.slice(start, start + CHUNK);
    const reply = await RENEW.run(redis, chunk.map(fleetOwnerKey), [processId, ttlMs]) as number[];
    chunk.forEach((account, i) => {
      if (reply[i] !== 1) lost.push(account);
    });
  }
  return lost;
}

/** Releases the leases of `accounts` still held by `processId`; returns how many. */
export async function releaseAccounts(
  redis: RedisClient,
  processId: string,
  accounts: readonly string[],
): Promise<number> {
  let released = 0;
  for (let start = 0; start < accounts.length; start += CHUNK) {
    const chunk = accounts.slice(start, start + CHUNK);
    released += Number(await RELEASE.run(redis, chunk.map(fleetOwnerKey), [processId]));
  }
  return released;
}

/** The owner of each account (`null`: unowned), in the order given. */
export async function accountOwners(
  redis: RedisClient,
  accounts: readonly string[],
): Promise<(string | null)[]> {
  const owners: (string | null)[] = [];
  for (let start = 0; start < accounts.length; start += CHUNK) {
    const chunk = accounts.slice(start, start + CHUNK);
    if (chunk.length > 0) owners.push(...await redis.mget(...chunk.map(fleetOwnerKey)));
  }
  return owners;
}
