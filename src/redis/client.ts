/**
 * The Redis client type every module works with: one Redis server, or a
 * Redis Cluster through ioredis' Cluster client (`REDIS_CLUSTER_NODES`).
 * Both speak the same commands; code that needs one of them only (a blocking
 * read on its own connection, `CLUSTER` commands) narrows with
 * {@link isCluster}.
 *
 * @module
 */

import type { Cluster, Redis } from "ioredis";

/** A connection to one Redis server or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Whether a client talks to a Redis Cluster. */
export function isCluster(client: RedisClient): client is Cluster {
  // ioredis' own flag, not `instanceof Cluster`: this module then needs no ioredis at run time.
  return client.isCluster === true;
}
