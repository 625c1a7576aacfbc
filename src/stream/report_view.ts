/**
 * The JSON view of a {@link StreamReport}: the stable `stream inspect --json`
 * shape, also the `pipeline` of `produce`/`work` `/status` and the `stream`
 * of the exporter's `/status`. snake_case keys.
 *
 * @module
 */

import type { StreamReport } from "./inspect.ts";

/** One consumer of a group. */
export interface ConsumerView {
  readonly name: string;
  readonly pending: number;
  readonly idle_ms: number;
}

/** One consumer group. */
export interface GroupView {
  readonly name: string;
  readonly pending: number;
  readonly lag: number | null;
  readonly last_delivered_id: string;
  readonly oldest_pending_id: string | null;
  readonly oldest_pending_age_ms: number | null;
  /** Milliseconds since the most recent consumer activity; `null` without consumers. */
  readonly idle_ms: number | null;
  /** Unattended past GROUP_ORPHAN_SECONDS while entries wait (src/stream/orphan.ts). */
  readonly orphaned: boolean;
  readonly consumers: readonly ConsumerView[];
}

/** The whole report. */
export interface StreamReportView {
  readonly stream: string;
  readonly exists: boolean;
  readonly length: number;
  readonly first_id: string | null;
  readonly last_id: string | null;
  readonly groups: readonly GroupView[];
  readonly dlq: { readonly stream: string; readonly length: number };
  readonly tail: readonly { readonly id: string; readonly fields: Record<string, string> }[];
  /** Entries written by type, all mailboxes (`stream inspect`); `null` where not counted. */
  readonly entry_types: Readonly<Record<string, number>> | null;
  /** Each partition's own view (`tail` empty there), when the report has rows; the rest are totals. */
  readonly partitions?: readonly PartitionReportView[];
}

/** One partition's row (entry counts by type are kept per mailbox, so only the totals have them). */
export interface PartitionReportView extends Omit<StreamReportView, "partitions" | "entry_types"> {
  readonly partition: number;
}

/** The view of `report`, with its partition rows when it has them. */
export function streamReportView(report: StreamReport): StreamReportView {
  const view = singleView(report);
  if (report.partitions === undefined) return view;
  const partitions = report.partitions.map((row): PartitionReportView => {
    const { entry_types: _totalsOnly, partitions: _none, ...rest } = singleView(row);
    return { ...rest, partition: row.partition };
  });
  return { ...view, partitions };
}

function singleView(report: StreamReport): StreamReportView {
  return {
    stream: report.stream,
    exists: report.exists,
    length: report.length,
    first_id: report.firstId,
    last_id: report.lastId,
    groups: report.groups.map((g) => ({
      name: g.name,
      pending: g.pending,
      lag: g.lag,
      last_delivered_id: g.lastDeliveredId,
      oldest_pending_id: g.oldestPendingId,
      oldest_pending_age_ms: g.oldestPendingAgeMs,
      idle_ms: g.idleMs,
      orphaned: g.orphaned,
      consumers: g.consumers.map((c) => ({ name: c.name, pending: c.pending, idle_ms: c.idleMs })),
    })),
    dlq: { stream: report.dlq.stream, length: report.dlq.length },
    tail: report.tail.map((entry) => ({ id: entry.id, fields: entry.fields })),
    entry_types: report.entryTypes ?? null,
  };
}
