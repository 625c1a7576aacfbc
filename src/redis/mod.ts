/**
 * Redis: connecting (TLS, timeouts), the one function per key name, Lua scripts, reply parsing,
 * and the one classifier of Redis failures (unreachable, OOM, read-only, ...); Redis Cluster
 * (`REDIS_CLUSTER_NODES`), stream partitions (`STREAM_PARTITIONS`) and their layout check,
 * `WAIT` for replicas, and a SCAN over every master.
 *
 * @module
 */

export * from "./client.ts";
export * from "./cluster.ts";
export * from "./connection.ts";
export * from "./keys.ts";
export * from "./layout.ts";
export * from "./partitions.ts";
export * from "./redis_failure.ts";
export * from "./replicas.ts";
export * from "./scan.ts";
