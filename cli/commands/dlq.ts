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
  allDeadLetterIds,
  type DeadLetterPage,
  type DeadLetterStreams,
  listDeadLetters,
  purgeAllDeadLetters,
  purgeDeadLetters,
  readDeadLetters,
  replayDeadLetters,
} from "../../src/dlq/dead_letter_queue.ts";
import { UsageError } from "../../src/errors.ts";
import type { App } from "../app.ts";
import { wholeNumberProblem } from "../whole_number.ts";
import { table } from "../output.ts";
import { confirm, examples, printResult } from "./common.ts";

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const STREAM_ID = /^\d+(-\d+)?$/;

function streamsOf(config: Config): DeadLetterStreams {
  return { stream: config.redis.streamName, dlqStream: config.redis.dlqStreamName };
}

/** Checks `--id` values and the `--id` / `--all` combination; returns the problems. */
function selectionProblems(ids: readonly string[], all: boolean | undefined): string[] {
  const problems = ids
    .filter((id) => !STREAM_ID.test(id))
    .map((id) => `--id must be a stream id like 1700000000000-0: current value is "${id}"`);
  if (all && ids.length > 0) problems.push("give either --id or --all, not both");
  if (!all && ids.length === 0) {
    problems.push("name the entries with --id ID (repeatable) or --all");
  }
  return problems;
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
function listText(page: DeadLetterPage, offset: number, empty: string): string {
  if (page.total === 0) return `${empty}\n`;
  if (page.entries.length === 0) {
    return `No entries after offset ${offset} (${page.total} in all).\n`;
  }
  const rows = page.entries.map((e) => {
    const view = deadLetterView(e);
    return [
      e.id,
      e.reason,
      e.attempts,
      e.lastFailure,
      view.uid,
      view.subject === null ? null : clip(view.subject, 40),
      clip(e.error, 60),
    ];
  });
  return table(["ID", "REASON", "ATTEMPTS", "LAST_FAILURE", "UID", "SUBJECT", "ERROR"], rows) +
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
      const page = await listDeadLetters(redis, streamsOf(config), limit, { offset, reason });
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
          entries: page.entries.map((entry) => deadLetterView(entry, options.withFields)),
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

/** The `dlq replay --json` document. */
function replayJson(
  dryRun: boolean,
  stream: string,
  result: {
    readonly replayed: readonly { dlqId: string; newId: string | null }[];
    readonly missing: readonly string[];
  },
  byId: ReadonlyMap<string, DeadLetter>,
): Record<string, unknown> {
  return {
    dry_run: dryRun,
    stream,
    replayed: result.replayed.map((r) => ({
      dlq_id: r.dlqId,
      new_id: r.newId,
      source_id: byId.get(r.dlqId)?.sourceId ?? null,
      idempotency_key: fieldValue(byId.get(r.dlqId)?.originalFields ?? [], "idempotency_key") ??
        null,
    })),
    missing: result.missing,
  };
}

/** Builds `dlq replay`. */
function dlqReplayCommand(app: App): Command {
  return new Command("replay")
    .description("Move entries back to the main stream (new id, fresh attempts), atomically")
    .option("--id <id>", "a DLQ entry id; repeat for several", collect)
    .option("--all", "replay every entry in the DLQ")
    .option("--dry-run", "show what would be replayed; change nothing")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples(
        "ingest dlq replay --id 1700000000000-0",
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
      const streams = streamsOf(config);
      const wanted = options.all ? await allDeadLetterIds(redis, streams) : ids;
      const { found, missing: absent } = await readDeadLetters(redis, streams, wanted);
      const result = options.dryRun
        ? { replayed: found.map((e) => ({ dlqId: e.id, newId: null })), missing: absent }
        : await replayDeadLetters(redis, streams, found.map((e) => e.id)).then((r) => ({
          replayed: r.replayed,
          missing: [...absent, ...r.missing],
        }));
      const byId = new Map(found.map((e) => [e.id, e]));
      if (result.missing.length > 0) app.exitCode = 1;
      printResult(
        app,
        options.json,
        replayJson(options.dryRun ?? false, config.redis.streamName, result, byId),
        () =>
          result.replayed.map((r) =>
            options.dryRun
              ? `would replay ${r.dlqId}\n`
              : `replayed ${r.dlqId} -> ${config.redis.streamName} ${r.newId}\n`
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
    .option("--id <id>", "a DLQ entry id; repeat for several", collect)
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
      const streams = streamsOf(config);
      // Like `replay`: an id that is not in the DLQ (a typo) is named, and the exit code is 1.
      const missing = options.all ? [] : (await readDeadLetters(redis, streams, ids)).missing;
      const purged = options.all
        ? await purgeAllDeadLetters(redis, streams)
        : await purgeDeadLetters(redis, streams, ids.filter((id) => !missing.includes(id)));
      if (missing.length > 0) app.exitCode = 1;
      printResult(
        app,
        options.json,
        { stream: config.redis.dlqStreamName, purged, missing },
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
