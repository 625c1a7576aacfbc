/**
 * SCAN over the whole keyspace. On Redis Cluster each master holds its own
 * keys and a SCAN sent through the Cluster client reaches one node only, so
 * every master is scanned in turn.
 *
 * @module
 */

import type { Redis } from "ioredis";
import { isCluster, type RedisClient } from "./client.ts";

/** Every key matching `pattern`, from every master (order not defined). */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes: Redis[] = isCluster(redis) ? redis.nodes("master") : [redis];
  const found = await Promise.all(nodes.map((node) => scanNode(node, pattern)));
  return [...new Set(found.flat())];
}

async function scanNode(node: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await node.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}
