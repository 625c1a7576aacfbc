/**
 * Redis: connecting (TLS, timeouts), the one function per key name, Lua scripts, reply parsing,
 * and the one classifier of Redis failures (unreachable, OOM, read-only, ...).
 *
 * @module
 */

export * from "./connection.ts";
export * from "./keys.ts";
export * from "./redis_failure.ts";
export * from "./partitions.ts";
