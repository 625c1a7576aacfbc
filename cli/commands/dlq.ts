/**
 * `ingest dlq list|replay|purge`: look at the dead-letter queue, send entries
 * back to the main stream with fresh attempts, or drop them. The flags and
 * help; the commands themselves are in dlq_run.ts, loaded when one runs.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { DEAD_LETTER_REASONS, type DeadLetterReason } from "../../src/dlq/dead_letter.ts";
import { UsageError } from "../../src/errors.ts";
import type { App } from "../app.ts";
import { wholeNumberProblem } from "../whole_number.ts";
import { examples } from "./common.ts";

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

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
      const { listDeadLetters } = await import("./dlq_run.ts");
      await listDeadLetters(app, options);
    });
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
      const { replayDeadLetters } = await import("./dlq_run.ts");
      await replayDeadLetters(app, options);
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
      const { purgeDeadLetters } = await import("./dlq_run.ts");
      await purgeDeadLetters(app, options);
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
