/**
 * Which dead letters `dlq replay` and `dlq purge` act on: `--id ID` (any
 * partition's DLQ), `--id P/ID` (partition P's), or `--all`. Stream ids are
 * per stream, so with STREAM_PARTITIONS > 1 two partitions can hold the same
 * id: a bare id found in several is refused with the qualified ids to use.
 *
 * @module
 */

import {
  type LocatedDeadLetters,
  locateDeadLetters,
  parseDeadLetterSelector,
} from "../../src/dlq/partitioned_dlq.ts";
import { UsageError } from "../../src/errors.ts";
import type { RedisClient } from "../../src/redis/client.ts";
import type { StreamPartition } from "../../src/stream/partition_set.ts";

/** Checks `--id` values and the `--id` / `--all` combination; returns the problems. */
export function selectionProblems(ids: readonly string[], all: boolean | undefined): string[] {
  const problems = ids
    .filter((id) => parseDeadLetterSelector(id) === undefined)
    .map((id) =>
      `--id must be a stream id like 1700000000000-0 (or, naming its partition, ` +
      `3/1700000000000-0): current value is "${id}"`
    );
  if (all && ids.length > 0) problems.push("give either --id or --all, not both");
  if (!all && ids.length === 0) {
    problems.push("name the entries with --id ID (repeatable) or --all");
  }
  return problems;
}

/**
 * The dead letters `ids` name (`all`: every one); a UsageError (exit 2)
 * naming every partition out of range and every ambiguous bare id.
 */
export async function locateSelection(
  redis: RedisClient,
  partitions: readonly StreamPartition[],
  ids: readonly string[],
  all: boolean | undefined,
  action: string,
): Promise<LocatedDeadLetters> {
  if (all) return await locateDeadLetters(redis, partitions, undefined);
  const selectors = ids.map((id) => parseDeadLetterSelector(id)!);
  const problems = selectors
    .filter((s) => s.partition !== undefined && s.partition >= partitions.length)
    .map((s) =>
      `--id ${s.partition}/${s.id}: there are ${partitions.length} partitions ` +
      `(0..${partitions.length - 1}, STREAM_PARTITIONS)`
    );
  const located = problems.length > 0
    ? undefined
    : await locateDeadLetters(redis, partitions, selectors);
  for (const { id, partitions: where } of located?.ambiguous ?? []) {
    problems.push(
      `${id} is in the DLQs of partitions ${where.join(", ")}: name one, e.g. --id ${
        where[0]
      }/${id}`,
    );
  }
  if (problems.length > 0) {
    throw new UsageError(`Cannot ${action}:\n  - ${problems.join("\n  - ")}`);
  }
  return located!;
}
