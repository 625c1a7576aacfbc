/**
 * Entries written to the stream by type, summed over every mailbox followed
 * with `--events updated|deleted`: the producer's commit script counts each
 * entry it writes in the mailbox's `producer_entry_counts:…` hash (mailboxes
 * with new mail only are not counted: their commits touch no new keys, so
 * existing Redis ACL users keep working). These are totals since the
 * counting began (trimming does not lower them), read without touching the
 * stream itself.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { ENTRY_COUNTS_SCAN_PATTERN } from "../redis/keys.ts";
import { ENTRY_TYPES, type EntryType } from "./entry.ts";

/** Entries written per type. */
export type EntryCounts = Record<EntryType, number>;

/** Sums every mailbox's entry counts. */
export async function readEntryCounts(redis: RedisClient): Promise<EntryCounts> {
  const counts = Object.fromEntries(ENTRY_TYPES.map((type) => [type, 0])) as EntryCounts;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", ENTRY_COUNTS_SCAN_PATTERN, "COUNT", 500);
    cursor = next;
    for (const key of keys) {
      const hash = await redis.hgetall(key);
      for (const type of ENTRY_TYPES) counts[type] += Number(hash[type] ?? 0);
    }
  } while (cursor !== "0");
  return counts;
}
