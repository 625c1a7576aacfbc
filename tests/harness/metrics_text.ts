/**
 * Metrics helpers for tests: a small reader of the Prometheus text format,
 * the metric names a PromQL expression uses, and every name `ingest` exports
 * (to check dashboards and alert rules against).
 *
 * @module
 */

import { Histogram } from "prom-client";
import type { RedisClient } from "../../src/redis/client.ts";
import { createProducerMetrics } from "../../src/metrics/producer.ts";
import { registerRedisCollector } from "../../src/metrics/redis_collector.ts";
import { createMetricsRegistry } from "../../src/metrics/registry.ts";
import { createWorkerMetrics } from "../../src/metrics/worker.ts";

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses every sample line of an exposition (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`; `undefined` if none. */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  if (found.length > 1) {
    throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  }
  return found[0]?.value;
}

/**
 * Every name the project exports, with its label names: the registry as
 * `produce`, `work` and `metrics serve` build it (histograms with their
 * `_bucket`, `_sum` and `_count` series).
 */
export function exportedMetricLabels(): Map<string, readonly string[]> {
  const registry = createMetricsRegistry();
  createProducerMetrics(registry, {});
  createWorkerMetrics(registry, { group: "g" });
  // Registration does not touch Redis; only a scrape would.
  registerRedisCollector(registry, { redis: {} as RedisClient, stream: "s", dlqStream: "s:dlq" });
  const labels = new Map<string, readonly string[]>([["up", ["job", "instance"]]]); // set by Prometheus
  for (const metric of registry.getMetricsAsArray()) {
    // prom-client keeps the declared label names on every metric object.
    const names = (metric as unknown as { labelNames?: string[] }).labelNames ?? [];
    labels.set(metric.name, names);
    if (metric instanceof Histogram) {
      for (const suffix of ["_bucket", "_sum", "_count"]) labels.set(metric.name + suffix, names);
    }
  }
  return labels;
}

/** Every name the project exports (see {@link exportedMetricLabels}). */
export function exportedMetricNames(): Set<string> {
  return new Set(exportedMetricLabels().keys());
}

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
]);

/** Metric names a PromQL expression selects (functions, labels and keywords left out). */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // range selectors
    .replace(/\b\d[0-9a-zA-Z_.]*/g, " ") // numbers and durations (offset 5m)
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((match) => !/^\s*\(/.test(stripped.slice(match.index + match[0].length))) // functions
    .map((match) => match[0])
    .filter((name) => !KEYWORDS.has(name))
    .filter((name, i, names) => names.indexOf(name) === i);
}
