/**
 * The single-producer lease of a mailbox: a Redis key holding a random token
 * with a TTL (SET NX PX). The holder renews it well before it expires; the
 * commit script checks the token, so a producer that lost its lease (paused,
 * partitioned) cannot publish even if it does not know yet. A standby keeps
 * trying to acquire it and takes over once the holder stops renewing.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { RedisClient } from "../redis/client.ts";
import { leaseKey, type MailboxRef } from "../redis/keys.ts";
import { LuaScript } from "../redis/lua_script.ts";

// Acquire or renew: succeeds when the key is free or already ours.
const ACQUIRE = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`);

const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/** A lease on one mailbox, identified by a random token. */
export class MailboxLease {
  readonly ref: MailboxRef;
  readonly token: string = crypto.randomUUID();
  readonly ttlMs: number;
  readonly #redis: RedisClient;

  constructor(redis: RedisClient, ref: MailboxRef, ttlMs: number) {
    if (!Number.isInteger(ttlMs) || ttlMs < 1000) {
      throw new InvalidArgumentError(
        `Cannot create lease: ttlMs must be >= 1000, current value is ${ttlMs}`,
      );
    }
    this.#redis = redis;
    this.ref = ref;
    this.ttlMs = ttlMs;
  }

  /** Acquires the lease, or extends it when already held; `false` when another producer holds it. */
  async acquire(): Promise<boolean> {
    const reply = await ACQUIRE.run(this.#redis, [leaseKey(this.ref)], [this.token, this.ttlMs]);
    return reply === 1;
  }

  /** Gives the lease up if still held, so a standby takes over at once. */
  async release(): Promise<void> {
    await RELEASE.run(this.#redis, [leaseKey(this.ref)], [this.token]);
  }
}
