/**
 * `ingest dlq list|replay|purge`: look at the dead-letter queue, send entries
 * back to the main stream with fresh attempts, or drop them.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { Config } from "../../src/config/config.ts";
import {
  DEAD_LETTER_REASONS,
  type DeadLetter,
  type DeadLetterReason,
  fieldValue,
} from "../../src/dlq/dead_letter.ts";
import { deadLetterView } from "../../src/dlq/dead_letter_view.ts";
import {
  listPartitionedDeadLetters,
  type PartitionCount,
  type PartitionDeadLetter,
  type PartitionedDeadLetterPage,
  purgePartitionedDeadLetters,
  replayPartitionedDeadLetters,
} from "../../src/dlq/partitioned_dlq.ts";
import { type StreamPartition, streamPartitionsOf } from "../../src/stream/partition_set.ts";
import { UsageError } from "../../src/errors.ts";
import type { RedisClient } from "../../src/redis/client.ts";
import type { App } from "../app.ts";
import { locateSelection, selectionProblems } from "./dlq_selection.ts";
import { wholeNumberProblem } from "../whole_number.ts";
import { table } from "../output.ts";
import { confirm, examples, printResult } from "./common.ts";

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

function partitionsOf(config: Config): StreamPartition[] {
  return streamPartitionsOf(config.redis);
}

/** Per-partition rows of a `--json` document. */
function partitionRows(counts: readonly PartitionCount[], key: string): Record<string, unknown>[] {
  return counts.map((c) => ({ partition: c.partition, stream: c.stream, [key]: c.count }));
}

/** The `dlq list` flags checked together: every problem is named in one message. */
function listProblems(options: { limit: string; offset: string; reason?: string }): string[] {
  const problems = [
    wholeNumberProblem("--limit", options.limit, { min: 1 }),
    wholeNumberProblem("--offset", options.offset, { min: 0 }),
  ].filter((problem): problem is string => problem !== undefined);
  if (options.reason !== undefined && !isDeadLetterReason(options.reason)) {
    problems.push(
      `--reason must be one of ${
        DEAD_LETTER_REASONS.join(", ")
      }: current value is "${options.reason}"`,
    );
  }
  return problems;
}

function isDeadLetterReason(value: string): value is DeadLetterReason {
  return (DEAD_LETTER_REASONS as readonly string[]).includes(value);
}

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 3)}...` : text;

/** The `dlq list` table, or `empty` when nothing matches. */
function listText(page: PartitionedDeadLetterPage, offset: number, empty: string): string {
  if (page.total === 0) return `${empty}\n`;
  if (page.entries.length === 0) {
    return `No entries after offset ${offset} (${page.total} in all).\n`;
  }
  const partitioned = page.partitions.length > 1;
  const rows = page.entries.map(({ partition, letter: e }) => {
    const view = deadLetterView(e);
    return [
      partitioned ? `${partition}/${e.id}` : e.id,
      e.reason,
      e.attempts,
      e.lastFailure,
      view.uid,
      view.subject === null ? null : clip(view.subject, 40),
      clip(e.error, 60),
    ];
  });
  const head = partitioned ? "PARTITION/ID" : "ID";
  return table(
    [head, "REASON", "ATTEMPTS", "LAST_FAILURE", "UID", "SUBJECT", "ERROR"],
    rows,
  ) +
    `${offset + 1}-${offset + page.entries.length} of ${page.total} shown.\n`;
}

/** Builds `dlq list`. */
function dlqListCommand(app: App): Command {
  return new Command("list")
    .description("List dead-lettered entries, oldest first (why, how often, when, which message)")
    .option("--limit <n>", "show at most this many entries", "50")
    .option("--offset <n>", "skip this many entries first (with --reason: of that reason)", "0")
    .option("--reason <reason>", `only entries of this reason: ${DEAD_LETTER_REASONS.join(", ")}`)
    .option("--json", "print JSON")
    .option("--with-fields", "with --json: include the original fields (email content) for export")
    .addHelpText(
      "after",
      examples(
        "ingest dlq list",
        "ingest dlq list --reason max_attempts --limit 20 --offset 20",
        "ingest dlq list --limit 500 --json | jq -r '.entries[] | [.id, .uid, .subject] | @tsv'",
        "ingest dlq list --limit 100000 --json --with-fields > dlq-export.json",
      ),
    )
    .action(async (options) => {
      const problems = listProblems(options);
      if (problems.length > 0) {
        throw new UsageError(`Cannot list the DLQ:\n  - ${problems.join("\n  - ")}`);
      }
      const limit = Number(options.limit);
      const offset = Number(options.offset);
      const reason = options.reason as DeadLetterReason | undefined;
      const config = await app.config();
      const redis = await app.redis(config, "ingest:dlq");
      const page = await listPartitionedDeadLetters(redis, partitionsOf(config), limit, {
        offset,
        reason,
      });
      const dlq = config.redis.dlqStreamName;
      printResult(
        app,
        options.json,
        {
          stream: dlq,
          reason: reason ?? null,
          offset,
          limit,
          total: page.total,
          entries: page.entries.map(({ partition, letter }) => ({
            ...deadLetterView(letter, options.withFields),
            partition,
          })),
          partitions: partitionRows(page.partitions, "total"),
        },
        () =>
          listText(
            page,
            offset,
            reason === undefined
              ? `The dead-letter queue ${dlq} is empty.`
              : `No entries of reason ${reason} in ${dlq}.`,
          ),
      );
    });
}

/** Replayed (or, dry run, replayable) entries: DLQ id, partition, new id. */
interface ReplayOutcome {
  readonly replayed: readonly { dlqId: string; partition: number; newId: string | null }[];
  readonly missing: readonly string[];
}

const letterKey = (partition: number, id: string) => `${partition}/${id}`;

/** The `dlq replay --json` document. */
function replayJson(
  dryRun: boolean,
  stream: string,
  result: ReplayOutcome,
  partitions: readonly StreamPartition[],
  byId: ReadonlyMap<string, DeadLetter>,
): Record<string, unknown> {
  return {
    dry_run: dryRun,
    stream,
    replayed: result.replayed.map((r) => {
      const letter = byId.get(letterKey(r.partition, r.dlqId));
      return {
        dlq_id: r.dlqId,
        new_id: r.newId,
        source_id: letter?.sourceId ?? null,
        idempotency_key: fieldValue(letter?.originalFields ?? [], "idempotency_key") ?? null,
        partition: r.partition,
        stream: partitions[r.partition]?.stream ?? stream,
      };
    }),
    missing: result.missing,
  };
}

/** Replays `found` (or, dry run, shows it); ids gone meanwhile join `absent`. */
async function replayOutcome(
  redis: RedisClient,
  partitions: readonly StreamPartition[],
  found: readonly PartitionDeadLetter[],
  absent: readonly string[],
  dryRun: boolean,
): Promise<ReplayOutcome> {
  if (dryRun) {
    const replayed = found.map((f) => ({
      dlqId: f.letter.id,
      partition: f.partition,
      newId: null,
    }));
    return { replayed, missing: absent };
  }
  const r = await replayPartitionedDeadLetters(redis, partitions, found);
  return { replayed: r.replayed, missing: [...absent, ...r.missing] };
}

/** Builds `dlq replay`. */
function dlqReplayCommand(app: App): Command {
  return new Command("replay")
    .description("Move entries back to the main stream (new id, fresh attempts), atomically")
    .option("--id <id>", "a DLQ entry id (P/ID: of partition P); repeat for several", collect)
    .option("--all", "replay every entry in the DLQ")
    .option("--dry-run", "show what would be replayed; change nothing")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples(
        "ingest dlq replay --id 1700000000000-0",
        "ingest dlq replay --id 3/1700000000000-0   # STREAM_PARTITIONS > 1: partition 3's",
        "ingest dlq replay --all --dry-run",
        "ingest dlq replay --all --json",
      ) + "\nExit codes: 0 all replayed, 1 some ids were not in the DLQ, 2 usage error.\n",
    )
    .action(async (options) => {
      const ids = options.id ?? [];
      const problems = selectionProblems(ids, options.all);
      if (problems.length > 0) {
        throw new UsageError(`Cannot replay:\n  - ${problems.join("\n  - ")}`);
      }
      const config = await app.config();
      const redis = await app.redis(config, "ingest:dlq");
      const partitions = partitionsOf(config);
      const located = await locateSelection(redis, partitions, ids, options.all, "replay");
      const dryRun = options.dryRun ?? false;
      const result = await replayOutcome(redis, partitions, located.found, located.missing, dryRun);
      const byId = new Map(
        located.found.map((f) => [letterKey(f.partition, f.letter.id), f.letter]),
      );
      if (result.missing.length > 0) app.exitCode = 1;
      printResult(
        app,
        options.json,
        replayJson(dryRun, config.redis.streamName, result, partitions, byId),
        () =>
          result.replayed.map((r) =>
            dryRun
              ? `would replay ${r.dlqId}\n`
              : `replayed ${r.dlqId} -> ${partitions[r.partition]?.stream} ${r.newId}\n`
          ).join("") +
          result.missing.map((id) => `not in the DLQ: ${id}\n`).join("") +
          `${options.dryRun ? "Would replay" : "Replayed"} ${result.replayed.length} entr${
            result.replayed.length === 1 ? "y" : "ies"
          }.\n`,
      );
    });
}

/** Builds `dlq purge`. */
function dlqPurgeCommand(app: App): Command {
  return new Command("purge")
    .description("Delete entries from the DLQ for good")
    .option("--id <id>", "a DLQ entry id (P/ID: of partition P); repeat for several", collect)
    .option("--all", "delete every entry (requires --yes off a terminal)")
    .option("--yes", "do not ask for confirmation")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples("ingest dlq purge --id 1700000000000-0", "ingest dlq purge --all --yes") +
        "\nExit codes: 0 all purged, 1 some ids were not in the DLQ, 2 usage error.\n",
    )
    .action(async (options) => {
      const ids = options.id ?? [];
      const problems = selectionProblems(ids, options.all);
      if (options.all && !options.yes && !app.runtime.interactive) {
        problems.push("refusing to purge --all without --yes when not on a terminal");
      }
      if (problems.length > 0) {
        throw new UsageError(`Cannot purge:\n  - ${problems.join("\n  - ")}`);
      }
      const config = await app.config();
      if (
        options.all && !options.yes &&
        !(await confirm(app, `Delete every entry of ${config.redis.dlqStreamName} for good?`))
      ) {
        app.runtime.stderr("Aborted: nothing deleted.\n");
        return;
      }
      const redis = await app.redis(config, "ingest:dlq");
      const partitions = partitionsOf(config);
      // Like `replay`: an id that is not in the DLQ (a typo) is named, and the exit code is 1.
      const located = options.all
        ? undefined
        : await locateSelection(redis, partitions, ids, false, "purge");
      const missing = located?.missing ?? [];
      const counts = await purgePartitionedDeadLetters(redis, partitions, located?.found);
      const purged = counts.reduce((sum, c) => sum + c.count, 0);
      if (missing.length > 0) app.exitCode = 1;
      printResult(
        app,
        options.json,
        {
          stream: config.redis.dlqStreamName,
          purged,
          missing,
          partitions: partitionRows(counts, "purged"),
        },
        () =>
          missing.map((id) => `not in the DLQ: ${id}\n`).join("") +
          `Purged ${purged} entr${
            purged === 1 ? "y" : "ies"
          } from ${config.redis.dlqStreamName}.\n`,
      );
    });
}

/** Builds the `dlq` command group. */
export function dlqCommand(app: App): Command {
  const dlq = new Command("dlq").description("Inspect, replay or purge the dead-letter queue");

  dlq.addCommand(dlqListCommand(app));
  dlq.addCommand(dlqReplayCommand(app));
  dlq.addCommand(dlqPurgeCommand(app));
  return dlq;
}
