/**
 * The public face of the core for library use: opaque handles over third-party clients (a
 * `RedisConnection` for ioredis, a `MetricsRegistry` for prom-client) and the functions that take
 * them. The root `mod.ts` re-exports these.
 *
 * @module
 */

export * from "./redis_connection.ts";
export * from "./metrics_registry.ts";
export * from "./producer.ts";
export * from "./worker.ts";
export * from "./state.ts";
export * from "./dead_letters.ts";
