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
  const found = new Set<string>();
  await scanEach(redis, pattern, (_node, keys) => keys.forEach((key) => found.add(key)));
  return [...found];
}

/**
 * Calls `visit` with each SCAN batch of keys matching `pattern` and the
 * master that holds them (on Redis Cluster, a command sent there for one of
 * those keys needs no redirection), one batch at a time, so that the keys
 * are never all in memory. A key can come twice (SCAN's guarantee).
 */
export async function scanEach(
  redis: RedisClient,
  pattern: string,
  visit: (node: Redis, keys: string[]) => Promise<void> | void,
): Promise<void> {
  const nodes: Redis[] = isCluster(redis) ? redis.nodes("master") : [redis];
  await Promise.all(nodes.map(async (node) => {
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      if (batch.length > 0) await visit(node, batch);
    } while (cursor !== "0");
  }));
}

/** `text` with SCAN MATCH's special characters (`*?[]\`) escaped, to match only itself. */
export function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
