/**
 * The stream's gauges read at scrape time (src/metrics/redis_collector.ts
 * takes the snapshot): depth, DLQ depth, and per consumer group lag,
 * pending, consumers and oldest pending age; one series per partition
 * stream (the stream itself without partitioning), so `sum by (group)`
 * gives the totals of a partitioned deployment.
 *
 * @module
 */

import { Gauge, type Registry } from "prom-client";
import type { StreamReport } from "../stream/inspect.ts";
import type { Fill, RedisSnapshot } from "./redis_collector.ts";
import { METRIC_PREFIX } from "./registry.ts";

/** One series per partition stream: the rows, or the report itself without rows. */
function rowsOf(s: RedisSnapshot): readonly StreamReport[] {
  return s.stream.partitions ?? [s.stream];
}

/** Registers the stream, DLQ and consumer-group gauges on `registers`. */
// size: declarative table (the stream's metric families)
export function registerStreamGauges(registers: Registry[], fill: Fill): void {
  new Gauge({
    name: `${METRIC_PREFIX}stream_depth`,
    help: "Entries in the stream (XLEN), acknowledged or not.",
    labelNames: ["stream"] as const,
    registers,
    collect() {
      return fill(() => this.reset(), (s) => {
        for (const row of rowsOf(s)) this.set({ stream: row.stream }, row.length);
      });
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}dlq_depth`,
    help: "Entries in the dead-letter stream.",
    labelNames: ["stream"] as const,
    registers,
    collect() {
      return fill(() => this.reset(), (s) => {
        for (const row of rowsOf(s)) this.set({ stream: row.dlq.stream }, row.dlq.length);
      });
    },
  });
  const groupGauge = (
    suffix: string,
    help: string,
    value: (g: StreamReport["groups"][number]) => number | null,
  ) =>
    new Gauge({
      name: `${METRIC_PREFIX}${suffix}`,
      help,
      labelNames: ["stream", "group"] as const,
      registers,
      collect() {
        return fill(() => this.reset(), (s) => {
          for (const row of rowsOf(s)) {
            for (const group of row.groups) {
              const v = value(group);
              if (v !== null) this.set({ stream: row.stream, group: group.name }, v);
            }
          }
        });
      },
    });
  groupGauge(
    "consumer_group_lag",
    "Entries not yet delivered to a consumer group (absent when Redis cannot tell).",
    (g) => g.lag,
  );
  groupGauge(
    "consumer_group_pending",
    "Entries delivered to a consumer group and not yet acknowledged.",
    (g) => g.pending,
  );
  groupGauge(
    "consumer_group_consumers",
    "Consumers known to a consumer group.",
    (g) => g.consumers.length,
  );
  groupGauge(
    "oldest_pending_age_seconds",
    "Age of a consumer group's oldest unacknowledged entry (0 when none is pending).",
    (g) => (g.oldestPendingAgeMs ?? 0) / 1000,
  );
}
