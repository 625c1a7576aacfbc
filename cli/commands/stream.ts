/**
 * `ingest stream inspect`: the stream, its consumer groups and the DLQ at a glance.
 * What it reads loads when it runs, not at every start-up.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { UsageError } from "../../src/errors.ts";
import type { FleetSummary } from "../../src/fleet/fleet_view.ts";
import type { StreamReport } from "../../src/stream/inspect.ts";
import type { App } from "../app.ts";
import { wholeNumberProblem } from "../whole_number.ts";
import { flagSettings, settingOption } from "../setting_option.ts";
import { duration, table } from "../output.ts";
import { examples, printResult } from "./common.ts";
import { orphanAdvice } from "./orphan_advice.ts";
import { streamPeekCommand } from "./stream_peek.ts";

function renderReport(report: StreamReport): string {
  const lines = [
    `Stream   ${report.stream}${report.exists ? "" : " (does not exist yet)"}${
      (report.partitions?.length ?? 1) > 1
        ? ` (${report.partitions!.length} partitions: totals)`
        : ""
    }`,
    `Length   ${report.length}`,
    `First    ${report.firstId ?? "-"}`,
    `Last     ${report.lastId ?? "-"}`,
    `DLQ      ${report.dlq.stream}: ${report.dlq.length} entries`,
    ...(report.entryTypes
      ? [
        `Written  ${
          Object.entries(report.entryTypes).map(([type, n]) => `${type} ${n}`).join(", ")
        }`,
      ]
      : []),
    "",
  ];
  let text = lines.join("\n");
  if (report.groups.length === 0) {
    text += "No consumer groups.\n";
  } else {
    text += table(
      ["GROUP", "CONSUMERS", "PENDING", "LAG", "OLDEST_PENDING_AGE", "LAST_DELIVERED", "ORPHANED"],
      report.groups.map((
        g,
      ) => [
        g.name,
        g.consumers.length,
        g.pending,
        g.lag,
        duration(g.oldestPendingAgeMs),
        g.lastDeliveredId,
        g.orphaned ? "yes" : "no",
      ]),
    );
    for (const group of report.groups.filter((g) => g.consumers.length > 0)) {
      text += `\nConsumers of ${group.name}:\n` +
        table(
          ["CONSUMER", "PENDING", "IDLE"],
          group.consumers.map((c) => [c.name, c.pending, duration(c.idleMs)]),
        );
    }
  }
  for (const entry of report.tail) {
    text += `\n${entry.id}  type=${entry.fields.type ?? "-"} key=${
      entry.fields.idempotency_key ?? "-"
    }`;
  }
  if (report.tail.length > 0) text += "\n";
  return text + partitionTable(report);
}

/** One row per partition, when there are several. */
function partitionTable(report: StreamReport): string {
  const rows = report.partitions ?? [];
  if (rows.length < 2) return "";
  return `\nPartitions (${rows.length}):\n` + table(
    ["PARTITION", "STREAM", "LENGTH", "PENDING", "LAG", "DLQ"],
    rows.map((row) => {
      const lags = row.groups.map((g) => g.lag);
      return [
        row.partition,
        row.stream,
        row.length,
        row.groups.reduce((sum, g) => sum + g.pending, 0),
        lags.some((lag) => lag === null) ? null : lags.reduce((a, b) => a! + b!, 0),
        row.dlq.length,
      ];
    }),
  );
}

/** The fleet (`produce --fleet`): processes and the accounts each owns, accounts by state. */
function renderFleet(fleet: FleetSummary | null): string {
  if (fleet === null) return "";
  const states = Object.entries(fleet.states).map(([state, n]) => `${n} ${state}`).join(", ");
  let text = `\nFleet    ${fleet.accounts} accounts: ${states}\n`;
  if (fleet.processes.length === 0) return text + "No live fleet process.\n";
  text += table(
    ["PROCESS", "ACCOUNTS", "HEARTBEAT_EXPIRES_AT"],
    fleet.processes.map((p) => [p.process_id, p.accounts, p.heartbeat_expires_at]),
  );
  return text;
}

/** Builds the `stream` command group. */
export function streamCommand(app: App): Command {
  const stream = new Command("stream").description("Look at the Redis stream");
  stream.command("inspect")
    .description("Length, ends, consumer groups (pending, lag, oldest pending age) and DLQ length")
    .option("--json", "print JSON")
    .option("--tail <n>", "also show the newest N entries (their type and idempotency key)", "0")
    .addOption(settingOption("REDIS_STREAM_NAME", "stream to inspect"))
    .addOption(settingOption("GROUP_ORPHAN_SECONDS"))
    .addHelpText(
      "after",
      examples("ingest stream inspect", "ingest stream inspect --json --tail 5"),
    )
    .action(async (options) => {
      const problem = wholeNumberProblem("--tail", options.tail, { min: 0 });
      if (problem !== undefined) throw new UsageError(problem);
      const config = await app.config(
        flagSettings(options, ["REDIS_STREAM_NAME", "GROUP_ORPHAN_SECONDS"]),
      );
      const { inspectPartitions } = await import("../../src/stream/partitioned_inspect.ts");
      const { streamPartitionsOf } = await import("../../src/stream/partition_set.ts");
      const { streamReportView } = await import("../../src/stream/report_view.ts");
      const { readFleetSummary } = await import("../../src/fleet/fleet_view.ts");
      const redis = await app.redis(config, "ingest:inspect");
      const report = await inspectPartitions(redis, {
        partitions: streamPartitionsOf(config.redis),
        stream: config.redis.streamName,
        dlqStream: config.redis.dlqStreamName,
        tail: Number(options.tail),
        orphanMs: config.worker.groupOrphanSeconds * 1000,
        countTypes: true,
      });
      // A user without access to the fleet's keys still sees the stream.
      const fleet = await readFleetSummary(redis).catch(() => null);
      printResult(
        app,
        options.json,
        { ...streamReportView(report), fleet },
        () =>
          renderReport(report) + renderFleet(fleet) +
          orphanAdvice(report, config.worker.groupOrphanSeconds),
      );
    });
  stream.addCommand(streamPeekCommand(app));
  return stream;
}
