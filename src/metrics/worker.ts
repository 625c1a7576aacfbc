/**
 * Worker metrics: a {@link WorkerObserver} that records how entries are
 * handled — the seed's processed/failed/DLQ/retry counters and processing
 * latency, plus end-to-end latency (message date to processed), reclaims and
 * the read loop's heartbeat.
 *
 * @module
 */

import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { WorkerObserver } from "../observe/events.ts";
import { METRIC_PREFIX } from "./registry.ts";

/** Buckets of the handler-time histogram, in seconds. */
export const PROCESSING_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

/** Buckets of the end-to-end histogram, in seconds (IDLE pushes in about a second; backfills take hours). */
export const END_TO_END_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 21600, 86400];

/** Options of {@link createWorkerMetrics}. */
export interface WorkerMetricsOptions {
  /** The consumer group this worker reads as; the `group` label. */
  group: string;
  /** Clock in ms, for tests. Default `Date.now`. */
  now?: () => number;
}

/** Registers the worker's metrics on `registry` and returns the observer that feeds them. */
export function createWorkerMetrics(
  registry: Registry,
  options: WorkerMetricsOptions,
): WorkerObserver {
  const now = options.now ?? Date.now;
  const group = { group: options.group };
  const {
    processed,
    duplicates,
    failed,
    retries,
    deadLettered,
    latency,
    endToEnd,
    reclaimed,
    heartbeat,
    settleRefused,
    unsettled,
  } = workerMetricFamilies(registry);
  unsettled.set(group, 0);
  // Zero-initialise so rate() and absent-series alerts work before the first event.
  for (const counter of [processed, duplicates, retries, deadLettered, reclaimed]) {
    counter.inc(group, 0);
  }

  return {
    handled(outcome, seconds, endToEndSeconds) {
      latency.observe(group, seconds);
      if (outcome === "processed") {
        processed.inc(group);
        if (endToEndSeconds !== undefined) endToEnd.observe(group, Math.max(0, endToEndSeconds));
      } else if (outcome === "duplicate") duplicates.inc(group);
      else if (outcome === "retry_scheduled") retries.inc(group);
      else deadLettered.inc(group);
    },
    failed(reason) {
      failed.inc({ ...group, reason });
    },
    reclaimed(count) {
      reclaimed.inc(group, count);
    },
    heartbeat() {
      heartbeat.set(group, now() / 1000);
    },
    settleRefused(reason) {
      settleRefused.inc({ ...group, reason });
    },
    unsettled(count) {
      unsettled.set(group, count);
    },
  };
}

// size: declarative table (the worker's metric families)
function workerMetricFamilies(registry: Registry) {
  const registers = [registry];
  const groupLabels = ["group"] as const;
  const processed = new Counter({
    name: `${METRIC_PREFIX}emails_processed_total`,
    help: "Entries a sink handled successfully (acknowledged with a processed-record).",
    labelNames: groupLabels,
    registers,
  });
  const duplicates = new Counter({
    name: `${METRIC_PREFIX}duplicates_acknowledged_total`,
    help: "Entries acknowledged without calling the sink because their processed-record exists.",
    labelNames: groupLabels,
    registers,
  });
  const failed = new Counter({
    name: `${METRIC_PREFIX}emails_failed_total`,
    help: "Sink failures, by reason (retryable, permanent, malformed).",
    labelNames: [...groupLabels, "reason"] as const,
    registers,
  });
  const retries = new Counter({
    name: `${METRIC_PREFIX}backoff_retries_total`,
    help: "Entries scheduled for another attempt with exponential backoff.",
    labelNames: groupLabels,
    registers,
  });
  const deadLettered = new Counter({
    name: `${METRIC_PREFIX}dlq_messages_total`,
    help: "Entries moved to the dead-letter queue.",
    labelNames: groupLabels,
    registers,
  });
  const latency = new Histogram({
    name: `${METRIC_PREFIX}processing_latency_seconds`,
    help: "Time spent handling one entry (sink call and bookkeeping).",
    labelNames: groupLabels,
    buckets: PROCESSING_BUCKETS,
    registers,
  });
  const endToEnd = new Histogram({
    name: `${METRIC_PREFIX}end_to_end_latency_seconds`,
    help: "From the message's internal date at the IMAP server to processed by the sink.",
    labelNames: groupLabels,
    buckets: END_TO_END_BUCKETS,
    registers,
  });
  const reclaimed = new Counter({
    name: `${METRIC_PREFIX}entries_reclaimed_total`,
    help: "Pending entries claimed from consumers that stopped (crashed or stuck).",
    labelNames: groupLabels,
    registers,
  });
  const heartbeat = new Gauge({
    name: `${METRIC_PREFIX}worker_last_heartbeat_timestamp_seconds`,
    help: "Unix time the worker's read loop last completed an iteration.",
    labelNames: groupLabels,
    registers,
  });
  const settleRefused = new Counter({
    name: `${METRIC_PREFIX}settles_refused_total`,
    help: "Settles (acknowledge, retry, DLQ) Redis refused, by reason (oom, unreachable, ...); " +
      "each is retried with the entry kept by its worker.",
    labelNames: [...groupLabels, "reason"] as const,
    registers,
  });
  const unsettled = new Gauge({
    name: `${METRIC_PREFIX}entries_unsettled`,
    help:
      "Handled entries waiting for a settle Redis refused; above 0 the worker takes no new work.",
    labelNames: groupLabels,
    registers,
  });
  return {
    processed,
    duplicates,
    failed,
    retries,
    deadLettered,
    latency,
    endToEnd,
    reclaimed,
    heartbeat,
    settleRefused,
    unsettled,
  };
}
