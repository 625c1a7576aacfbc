/**
 * What `ingest dlq list|replay|purge` do once their flags are parsed (list's
 * flags are checked by dlq.ts). Loaded by dlq.ts only when one of them runs.
 *
 * @module
 */

import type { Config } from "../../src/config/config.ts";
import type { DeadLetter, DeadLetterReason } from "../../src/dlq/dead_letter.ts";
import { fieldValue } from "../../src/dlq/dead_letter.ts";
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
import { table } from "../output.ts";
import { confirm, printResult } from "./common.ts";

function partitionsOf(config: Config): StreamPartition[] {
  return streamPartitionsOf(config.redis);
}

/** Per-partition rows of a `--json` document. */
function partitionRows(counts: readonly PartitionCount[], key: string): Record<string, unknown>[] {
  return counts.map((c) => ({ partition: c.partition, stream: c.stream, [key]: c.count }));
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

/** Runs `ingest dlq list`. */
export async function listDeadLetters(
  app: App,
  options: { limit: string; offset: string; reason?: string; json?: boolean; withFields?: boolean },
): Promise<void> {
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
}

/** Runs `ingest dlq replay`. */
export async function replayDeadLetters(
  app: App,
  options: { id?: string[]; all?: boolean; dryRun?: boolean; json?: boolean },
): Promise<void> {
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
}

/** Runs `ingest dlq purge`. */
export async function purgeDeadLetters(
  app: App,
  options: { id?: string[]; all?: boolean; yes?: boolean; json?: boolean },
): Promise<void> {
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
      `Purged ${purged} entr${purged === 1 ? "y" : "ies"} from ${config.redis.dlqStreamName}.\n`,
  );
}
