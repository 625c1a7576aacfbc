/**
 * The metrics every long-running command exposes, built from the
 * configuration: a registry with process metrics and the Redis collector
 * (stream, groups, DLQ, cursors, 24 h downloads). `produce` and `work` add
 * their observer's metrics on top; `metrics serve` exposes just this.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { type AccountLabeler, accountLabeler } from "./account_label.ts";
import { type RedisCollector, registerRedisCollector } from "./redis_collector.ts";
import { createMetricsRegistry, type Registry } from "./registry.ts";

/** What {@link createPipelineMetrics} built. */
export interface PipelineMetrics {
  readonly registry: Registry;
  readonly collector: RedisCollector;
  /** The `account` label for an address, as every metric of this process uses it. */
  readonly labelAccount: AccountLabeler;
}

/** Options of {@link createPipelineMetrics}. */
export interface PipelineMetricsOptions {
  /** The command, e.g. `produce`; a label of `email_ingestion_build_info`. */
  component: string;
  logger?: Logger;
  /** Include process metrics. Default true. */
  defaultMetrics?: boolean;
}

/**
 * A registry with the Redis collector for `config`'s stream. `redis` must be a
 * connection of its own (a blocked XREADGROUP would stall scrapes).
 */
export function createPipelineMetrics(
  config: Config,
  redis: RedisClient,
  options: PipelineMetricsOptions,
): PipelineMetrics {
  const registry = createMetricsRegistry({
    component: options.component,
    defaultMetrics: options.defaultMetrics,
  });
  const labelAccount = accountLabeler({
    accountAlias: config.observability.accountAlias,
    account: config.imap.user,
  });
  const collector = registerRedisCollector(registry, {
    redis,
    stream: config.redis.streamName,
    dlqStream: config.redis.dlqStreamName,
    partitions: config.redis.partitions,
    orphanMs: config.worker.groupOrphanSeconds * 1000,
    labelAccount,
    accounts: config.imap.user === undefined ? [] : [config.imap.user],
    logger: options.logger,
  });
  return { registry, collector, labelAccount };
}
