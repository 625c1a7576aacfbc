/**
 * The Prometheus registry of one `ingest` process: process and runtime
 * metrics, a build-info series, and whatever the producer, worker and Redis
 * collectors register on it. One registry per process, passed around
 * explicitly (never prom-client's global one).
 *
 * @module
 */

import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { VERSION } from "../version.ts";

export type { Registry } from "prom-client";

/** Prefix of every metric `ingest` defines itself (the seed's names). */
export const METRIC_PREFIX = "email_ingestion_";

const GAUGES_NAMED_AS_COUNTERS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** Options of {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Include process and runtime metrics (`process_*`, `nodejs_*`). Default true. */
  defaultMetrics?: boolean;
  /** Which command this process runs, e.g. `produce`; a label of the build-info series. */
  component?: string;
}

/** A fresh registry with process metrics and `email_ingestion_build_info`. */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // These are gauges named like counters; `promtool check metrics` rejects
    // them, and nodejs_active_resources carries the same information.
    for (const name of GAUGES_NAMED_AS_COUNTERS) registry.removeSingleMetric(name);
  }
  const info = new Gauge({
    name: `${METRIC_PREFIX}build_info`,
    help: "Always 1; labels carry the ingest version and the command this process runs.",
    labelNames: ["version", "component"] as const,
    registers: [registry],
  });
  info.set({ version: VERSION, component: options.component ?? "ingest" }, 1);
  return registry;
}

/** Names of every metric family registered on `registry`, sorted. */
export function metricNames(registry: Registry): string[] {
  return registry.getMetricsAsArray().map((metric) => metric.name).sort();
}
