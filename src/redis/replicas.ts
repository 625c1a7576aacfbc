/**
 * `WAIT` after a write, on the right node. WAIT has no key, so ioredis'
 * Cluster client would send it to any node; sent in one pipeline with a read
 * of a key of the written slot, it goes to the master that took the write,
 * over the same connection, and counts the replicas that have it.
 *
 * @module
 */

import { RedisError } from "../errors.ts";
import type { RedisClient } from "./client.ts";
import { pipelineReplies } from "./reply.ts";

/** Waits until `count` replicas have the writes made so far on `key`'s slot. */
export async function waitForReplicas(
  redis: RedisClient,
  key: string,
  replicas: { readonly count: number; readonly timeoutMs: number },
): Promise<void> {
  const [, acknowledged = 0] = pipelineReplies(
    await redis.pipeline().exists(key).wait(replicas.count, replicas.timeoutMs).exec(),
  );
  if (Number(acknowledged) < replicas.count) {
    throw new RedisError(
      "REDIS_REPLICAS_BEHIND",
      `Only ${Number(acknowledged)} of ${replicas.count} replica(s) (REDIS_WAIT_REPLICAS) ` +
        `confirmed a commit within ${replicas.timeoutMs} ms: the commit stands on the master ` +
        `but a failover could lose it; retrying. Fix: check the replicas (redis-cli -c INFO ` +
        `replication), raise REDIS_WAIT_TIMEOUT_SECONDS, or lower REDIS_WAIT_REPLICAS`,
      { retryable: true },
    );
  }
}
