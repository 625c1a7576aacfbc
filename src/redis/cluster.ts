/**
 * Redis Cluster settings for ioredis' Cluster client (`REDIS_CLUSTER_NODES`).
 * The node options (ACL user, password, TLS, connection name, timeouts) are
 * the ones {@link redisOptions} derives for a single server, so cluster mode
 * authenticates exactly as `REDIS_URL` does.
 *
 * Redirections and failover: ioredis follows MOVED (and refreshes its slot
 * map) and ASK itself; a command that meets a closed connection (its master
 * was killed), `CLUSTERDOWN` (no master for the slot yet) or `TRYAGAIN` is
 * retried after a delay, at most `maxRedirections` times. The budget below,
 * 16 × 300 ms, outlasts a replica promotion with the usual
 * `cluster-node-timeout` of a few seconds only partly; a command that still
 * fails surfaces as a retryable error and the caller's own retry (the
 * producer's round, the worker's loop) carries on once a master is back.
 *
 * @module
 */

import type { ClusterOptions, RedisOptions } from "ioredis";
import type { RedisConfig } from "../config/config.ts";
import { backoffDelay } from "../retry/backoff.ts";

/** Cluster client settings: seed nodes come from `config.clusterNodes`. */
export function clusterOptions(node: RedisOptions): ClusterOptions {
  const { host: _host, port: _port, db: _db, retryStrategy: _retry, ...perNode } = node;
  return {
    redisOptions: perNode,
    lazyConnect: true,
    enableReadyCheck: true,
    maxRedirections: 16,
    retryDelayOnMoved: 0,
    retryDelayOnFailover: 300,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 300,
    slotsRefreshTimeout: 2_000,
    // Picks up a promotion even when no command met a MOVED reply yet.
    slotsRefreshInterval: 5_000,
    clusterRetryStrategy: (times) =>
      backoffDelay(Math.max(0, times - 1), { baseMs: 100, capMs: 5_000 }),
    // With TLS the certificate names the host given, not the address ioredis resolved.
    ...(perNode.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
}

/** The seed nodes as ioredis takes them. */
export function clusterSeeds(config: RedisConfig): { host: string; port: number }[] {
  return config.clusterNodes.map((node) => ({ host: node.host, port: node.port }));
}

/** `host:port,…` of the seeds, for messages. */
export function clusterTarget(config: RedisConfig): string {
  return `cluster ${
    config.clusterNodes.map((n) =>
      n.host.includes(":") ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`
    )
      .join(",")
  }`;
}
