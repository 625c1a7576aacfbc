/**
 * The move of release 0.1.0's processed-records into the group's sorted set.
 * 0.1.0 kept one string key with a TTL per processed entry
 * (`<stream>:processed:<group>:<idempotency key>`); later releases keep all
 * of a group's records in one sorted set (`<stream>:processed:<group>`). A
 * worker moves what 0.1.0 left before its first read, so an entry processed
 * before the upgrade is still never handed to a sink again, and marks the
 * group as moved so that later starts skip the keyspace scan.
 *
 * The move is idempotent and safe to run from several workers at once: each
 * batch is added to the set (ZADD GT) before its keys are deleted, so a
 * worker stopped midway leaves records that the next start moves again.
 *
 * @module
 */

import type { Redis } from "ioredis";
import type { RedisClient } from "../redis/client.ts";
import { legacyProcessedKey } from "../redis/keys.ts";
import { pipelineReplies } from "../redis/reply.ts";
import { globLiteral, scanEach } from "../redis/scan.ts";
import type { GroupKeys } from "./group_keys.ts";

/**
 * Moves `keys`' release-0.1.0 processed-records into `keys.processed`,
 * each scored with the Unix ms it would have expired at; a record without
 * a TTL gets `ttlMs` from now. Does nothing once the group is marked as
 * moved. Returns how many records were moved.
 */
export async function moveLegacyRecords(
  redis: RedisClient,
  keys: GroupKeys,
  ttlMs: number,
  now: () => number = Date.now,
): Promise<number> {
  if (await redis.exists(keys.processedMoved) === 1) return 0;
  const prefix = legacyProcessedKey(keys.stream, keys.group, "");
  let moved = 0;
  await scanEach(redis, `${globLiteral(prefix)}*`, async (node, batch) => {
    const ttls = await runOnNode(node, batch.map((key) => ["pttl", key]));
    const startedAt = now();
    const pairs: (string | number)[] = [];
    batch.forEach((key, i) => {
      const ttl = Number(ttls[i]);
      if (ttl === -2) return; // gone meanwhile (expired, or moved by another worker)
      pairs.push(startedAt + (ttl === -1 ? ttlMs : ttl), key.slice(prefix.length));
    });
    if (pairs.length > 0) await redis.zadd(keys.processed, "GT", ...pairs);
    await runOnNode(node, batch.map((key) => ["unlink", key]));
    moved += pairs.length / 2;
  });
  await redis.set(keys.processedMoved, String(now()));
  return moved;
}

/**
 * Sends one single-key command per key to `node` in one pipeline (on
 * Redis Cluster a multi-key command across slots is refused even on the
 * node that holds them); answers each command's reply, throwing the first
 * error.
 */
async function runOnNode(node: Redis, commands: string[][]): Promise<unknown[]> {
  return pipelineReplies(await node.pipeline(commands).exec());
}
