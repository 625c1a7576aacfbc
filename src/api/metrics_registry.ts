/**
 * The public face of the Prometheus registry: a small {@link MetricsRegistry}
 * of our own, so library users never see prom-client's types. Inside `src/`,
 * code keeps using prom-client's `Registry`; {@link promRegistryOf} unwraps.
 *
 * @module
 */

import type { Registry } from "prom-client";
import { InvalidArgumentError } from "../errors.ts";
import { startHealthServer as startServer } from "../health/server.ts";
import type { HealthServer, Readiness } from "../health/server.ts";
import type { Logger } from "../log/logger.ts";
import type { AccountLabelOptions } from "../metrics/account_label.ts";
import { createProducerMetrics as producerMetrics } from "../metrics/producer.ts";
import {
  createMetricsRegistry as createRegistry,
  metricNames,
  type MetricsRegistryOptions,
} from "../metrics/registry.ts";
import { createWorkerMetrics as workerMetrics } from "../metrics/worker.ts";
import type { ProducerObserver, WorkerObserver } from "../observe/events.ts";

export type { HealthServer, MetricsRegistryOptions, Readiness };

/** The metrics of one process, in the Prometheus text format. */
export interface MetricsRegistry {
  /** The `Content-Type` of {@link MetricsRegistry.metrics}'s text. */
  readonly contentType: string;
  /** Every metric, in the Prometheus text exposition format. */
  metrics(): Promise<string>;
  /** Names of every metric family registered, sorted. */
  names(): string[];
}

const registries = new WeakMap<MetricsRegistry, Registry>();

/** Wraps a prom-client registry as a {@link MetricsRegistry} (for the CLI and tests). */
export function wrapRegistry(registry: Registry): MetricsRegistry {
  const wrapped: MetricsRegistry = Object.freeze({
    contentType: registry.contentType as string,
    metrics: () => registry.metrics(),
    names: () => metricNames(registry),
  });
  registries.set(wrapped, registry);
  return wrapped;
}

/** The prom-client registry behind `registry`; throws when it was not made by this module. */
export function promRegistryOf(registry: MetricsRegistry): Registry {
  const found = registries.get(registry);
  if (found === undefined) {
    throw new InvalidArgumentError(
      "Cannot use this metrics registry: it was not made by createMetricsRegistry()",
    );
  }
  return found;
}

/**
 * A fresh registry with process metrics and `email_ingestion_build_info`.
 *
 * @example
 * ```ts
 * import { createMetricsRegistry, createProducerMetrics } from "./mod.ts";
 * const registry = createMetricsRegistry({ component: "produce" });
 * const observer = createProducerMetrics(registry, { accountAlias: "work" });
 * // pass `observer` to startProducer(); serve `await registry.metrics()`
 * ```
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): MetricsRegistry {
  return wrapRegistry(createRegistry(options));
}

/** Options of {@link createProducerMetrics}. */
export interface ProducerMetricsOptions extends AccountLabelOptions {
  /** Clock in ms, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** Registers the producer's metrics on `registry`; returns the observer that feeds them. */
export function createProducerMetrics(
  registry: MetricsRegistry,
  options: ProducerMetricsOptions = {},
): ProducerObserver {
  return producerMetrics(promRegistryOf(registry), options);
}

/** Options of {@link createWorkerMetrics}. */
export interface WorkerMetricsOptions {
  /** The consumer group the worker reads as (the `group` label). */
  readonly group: string;
  /** Clock in ms, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** Registers the worker's metrics on `registry`; returns the observer that feeds them. */
export function createWorkerMetrics(
  registry: MetricsRegistry,
  options: WorkerMetricsOptions,
): WorkerObserver {
  return workerMetrics(promRegistryOf(registry), options);
}

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions {
  /** Address to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** Port to bind; 0 picks a free one (see {@link HealthServer.port}). */
  readonly port: number;
  /** Served on `/metrics`. */
  readonly registry: MetricsRegistry;
  /** Backs `/ready`: 200 when `ready`, else 503; the JSON body carries `checks`. */
  readonly ready: () => Promise<Readiness>;
  /** Merged into the `/status` JSON after `version` and `uptime_seconds`. */
  readonly status?: () => Promise<unknown>;
  /** Stops the server when aborted. */
  readonly signal?: AbortSignal;
  /** Logs start, stop and request errors. */
  readonly logger: Logger;
  /** Longest `/ready` and `/status` wait for their callbacks, in ms. Default 5000. */
  readonly timeoutMs?: number;
}

/**
 * Serves `/metrics`, `/health`, `/ready` and `/status`. Throws a `ConfigError`
 * when the port is in use or the address cannot be bound.
 */
export function startHealthServer(options: HealthServerOptions): HealthServer {
  return startServer({ ...options, registry: promRegistryOf(options.registry) });
}
