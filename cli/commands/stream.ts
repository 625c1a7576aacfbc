/**
 * `ingest stream inspect`: the stream, its consumer groups and the DLQ at a glance.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { UsageError } from "../../src/errors.ts";
import { inspectStream, type StreamReport } from "../../src/stream/inspect.ts";
import type { App } from "../app.ts";
import { duration, table } from "../output.ts";
import { examples, printResult } from "./common.ts";

/** The stable JSON shape of `stream inspect --json`. */
export function streamReportJson(report: StreamReport): Record<string, unknown> {
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
      consumers: g.consumers.map((c) => ({ name: c.name, pending: c.pending, idle_ms: c.idleMs })),
    })),
    dlq: report.dlq,
    tail: report.tail,
  };
}

function renderReport(report: StreamReport): string {
  const lines = [
    `Stream   ${report.stream}${report.exists ? "" : " (does not exist yet)"}`,
    `Length   ${report.length}`,
    `First    ${report.firstId ?? "-"}`,
    `Last     ${report.lastId ?? "-"}`,
    `DLQ      ${report.dlq.stream}: ${report.dlq.length} entries`,
    "",
  ];
  let text = lines.join("\n");
  if (report.groups.length === 0) {
    text += "No consumer groups.\n";
  } else {
    text += table(
      ["GROUP", "CONSUMERS", "PENDING", "LAG", "OLDEST_PENDING_AGE", "LAST_DELIVERED"],
      report.groups.map((
        g,
      ) => [
        g.name,
        g.consumers.length,
        g.pending,
        g.lag,
        duration(g.oldestPendingAgeMs),
        g.lastDeliveredId,
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
  return report.tail.length > 0 ? text + "\n" : text;
}

/** Builds the `stream` command group. */
export function streamCommand(app: App): Command {
  const stream = new Command("stream").description("Look at the Redis stream");
  stream.command("inspect")
    .description("Length, ends, consumer groups (pending, lag, oldest pending age) and DLQ length")
    .option("--json", "print JSON")
    .option("--tail <n>", "also show the newest N entries (their type and idempotency key)", "0")
    .option("--stream <name>", "stream to inspect (default: REDIS_STREAM_NAME)")
    .addHelpText(
      "after",
      examples("ingest stream inspect", "ingest stream inspect --json --tail 5"),
    )
    .action(async (options) => {
      if (!/^\d+$/.test(options.tail)) {
        throw new UsageError(
          `--tail must be a whole number >= 0: current value is "${options.tail}"`,
        );
      }
      const config = await app.config({ REDIS_STREAM_NAME: options.stream });
      const redis = await app.redis(config, "ingest:inspect");
      const report = await inspectStream(redis, {
        stream: config.redis.streamName,
        dlqStream: config.redis.dlqStreamName,
        tail: Number(options.tail),
      });
      printResult(app, options.json, streamReportJson(report), () => renderReport(report));
    });
  return stream;
}
