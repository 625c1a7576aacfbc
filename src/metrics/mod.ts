/**
 * Prometheus metrics: the per-process registry, the producer and worker observers that feed
 * their metric families, and the Redis collector read at scrape time.
 *
 * @module
 */

export * from "./registry.ts";
export * from "./producer.ts";
export * from "./worker.ts";
export * from "./redis_collector.ts";
export * from "./bandwidth.ts";
export * from "./account_label.ts";
