/**
 * The part both commit scripts share (the live commit in `commit.ts` and the
 * history commit in `backfill_commit.ts`): XADD each email whose dedupe id is
 * not yet in the mailbox's published index, and record it there.
 *
 * @module
 */

import { emailEntryFields, type EmailPayload } from "../stream/entry.ts";

/** One message of a batch. */
export interface CommitEntry {
  readonly payload: EmailPayload;
  /** Identity across UIDVALIDITY changes (see `dedupeId`). */
  readonly dedupeId: string;
}

/**
 * Lua that publishes `count` emails read from ARGV at `at` (per email: dedupe
 * id, field count n, n fields), counting `published` and `skipped`. It expects
 * the locals `stream`, `index`, `count`, `at`, `published` and `skipped`, and
 * leaves `at` after the last email.
 */
export const PUBLISH_EMAILS_LUA = `
for i = 1, count do
  local dedupe, n = ARGV[at], tonumber(ARGV[at + 1])
  if redis.call('SISMEMBER', index, dedupe) == 1 then
    skipped = skipped + 1
  else
    redis.call('XADD', stream, '*', unpack(ARGV, at + 2, at + 1 + n))
    redis.call('SADD', index, dedupe)
    published = published + 1
  end
  at = at + 2 + n
end
`;

/** The ARGV part {@link PUBLISH_EMAILS_LUA} reads: the count, then each email. */
export function publishEmailsArgs(entries: readonly CommitEntry[]): (string | number)[] {
  const args: (string | number)[] = [entries.length];
  for (const entry of entries) {
    const fields = emailEntryFields(entry.payload);
    args.push(entry.dedupeId, fields.length, ...fields);
  }
  return args;
}
