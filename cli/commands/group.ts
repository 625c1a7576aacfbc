/**
 * `ingest group list|delete`: the consumer groups of the stream; deleting a
 * leftover group (never the stream) so it stops holding entries back.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { Config } from "../../src/config/config.ts";
import { IngestError, UsageError } from "../../src/errors.ts";
import type { RedisClient } from "../../src/redis/client.ts";
import type { App } from "../app.ts";
import { duration, table } from "../output.ts";
import { flagSettings, settingOption } from "../setting_option.ts";
import { confirm, examples, printResult } from "./common.ts";
import { orphanAdvice } from "./orphan_advice.ts";

/** Builds `group list`. */
function groupListCommand(app: App): Command {
  return new Command("list")
    .description("List the stream's consumer groups: consumers, pending, lag, orphaned")
    .option("--json", "print JSON")
    .addOption(settingOption("REDIS_STREAM_NAME", "stream whose groups to list"))
    .addOption(settingOption("GROUP_ORPHAN_SECONDS"))
    .addHelpText(
      "after",
      examples("ingest group list", "ingest group list --json | jq -r '.groups[].name'"),
    )
    .action(async (options) => {
      const config = await app.config(
        flagSettings(options, ["REDIS_STREAM_NAME", "GROUP_ORPHAN_SECONDS"]),
      );
      const { inspectPartitions } = await import("../../src/stream/partitioned_inspect.ts");
      const { streamPartitionsOf } = await import("../../src/stream/partition_set.ts");
      const { streamReportView } = await import("../../src/stream/report_view.ts");
      const redis = await app.redis(config, "ingest:group");
      // With STREAM_PARTITIONS > 1: each group over every partition, totals.
      const report = await inspectPartitions(redis, {
        partitions: streamPartitionsOf(config.redis),
        stream: config.redis.streamName,
        dlqStream: config.redis.dlqStreamName,
        orphanMs: config.worker.groupOrphanSeconds * 1000,
      });
      const view = streamReportView(report);
      printResult(app, options.json, { stream: view.stream, groups: view.groups }, () => {
        if (report.groups.length === 0) return `No consumer groups on ${report.stream}.\n`;
        return table(
          ["GROUP", "CONSUMERS", "PENDING", "LAG", "IDLE", "ORPHANED"],
          report.groups.map((g) => [
            g.name,
            g.consumers.length,
            g.pending,
            g.lag,
            duration(g.idleMs),
            g.orphaned ? "yes" : "no",
          ]),
        ) + orphanAdvice(report, config.worker.groupOrphanSeconds);
      });
    });
}

/** Builds `group delete`. */
function groupDeleteCommand(app: App): Command {
  return new Command("delete")
    .description("Delete a consumer group (its pending entries are forgotten; the stream stays)")
    .requiredOption("--group <name>", "the group to delete")
    .addOption(settingOption("REDIS_STREAM_NAME", "stream of the group"))
    .option("--yes", "do not ask for confirmation (required when not on a terminal)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples("ingest group delete --group old_workers", "ingest group delete --group x --yes"),
    )
    .action(async (options) => {
      const config = await app.config(flagSettings(options, ["REDIS_STREAM_NAME"]));
      await runDelete(app, config, options);
    });
}

async function runDelete(
  app: App,
  config: Config,
  options: { group: string; yes?: boolean; json?: boolean },
): Promise<void> {
  const stream = config.redis.streamName;
  const redis = await app.redis(config, "ingest:group");
  const { group, names, streams } = await findPartitionedGroup(redis, config, options.group);
  if (group === undefined) {
    throw new IngestError(
      "NOT_FOUND",
      `Cannot delete: ${stream} has no consumer group "${options.group}" (groups: ${
        names.length === 0 ? "none" : names.join(", ")
      }). See ingest group list.`,
      false,
    );
  }
  const what = `group ${group.name} of ${stream}: ${group.consumers} consumer(s), ` +
    `${group.pending} pending, ${group.lag ?? "unknown"} not yet delivered`;
  app.runtime.stderr(`Would delete ${what}. The stream and its entries stay.\n`);
  if (!options.yes) {
    if (!app.runtime.interactive) {
      throw new UsageError("Cannot delete: refusing without --yes when not on a terminal");
    }
    if (!(await confirm(app, `Delete ${group.name}?`))) {
      app.runtime.stderr("Aborted: nothing deleted.\n");
      return;
    }
  }
  const { deleteGroup } = await import("../../src/stream/group_delete.ts");
  const deleted = await Promise.all(streams.map((s) => deleteGroup(redis, s, group.name)));
  if (!deleted.every(Boolean)) {
    throw new IngestError(
      "REDIS_FAILED",
      `group ${group.name} vanished before it was deleted`,
      false,
    );
  }
  printResult(
    app,
    options.json,
    {
      stream,
      group: group.name,
      deleted: true,
      pending: group.pending,
      consumers: group.consumers,
    },
    () =>
      `Deleted group ${group.name} of ${stream} (${group.pending} pending entries forgotten).\n`,
  );
}

/**
 * `group` on every partition stream that has it (one stream without
 * partitioning): consumers and pending added up, lag `null` if any is.
 */
async function findPartitionedGroup(redis: RedisClient, config: Config, name: string): Promise<{
  group: { name: string; consumers: number; pending: number; lag: number | null } | undefined;
  names: string[];
  streams: string[];
}> {
  const { streamPartitionsOf } = await import("../../src/stream/partition_set.ts");
  const { findGroup } = await import("../../src/stream/group_delete.ts");
  const streams = streamPartitionsOf(config.redis).map((p) => p.stream);
  const lookups = await Promise.all(streams.map((s) => findGroup(redis, s, name)));
  const found = lookups.flatMap((l) => (l.group ? [l.group] : []));
  const group = found.length === 0 ? undefined : {
    name,
    consumers: found.reduce((sum, g) => sum + g.consumers, 0),
    pending: found.reduce((sum, g) => sum + g.pending, 0),
    lag: found.some((g) => g.lag === null) ? null : found.reduce((sum, g) => sum + g.lag!, 0),
  };
  return {
    group,
    names: [...new Set(lookups.flatMap((l) => l.names))],
    streams: streams.filter((_, i) => lookups[i]!.group !== undefined),
  };
}

/** Builds the `group` command group. */
export function groupCommand(app: App): Command {
  const group = new Command("group").description("List or delete the stream's consumer groups");
  group.addCommand(groupListCommand(app));
  group.addCommand(groupDeleteCommand(app));
  return group;
}
