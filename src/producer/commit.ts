/**
 * The producer's atomic commit: one Lua script per batch that
 * 1. checks the mailbox lease token (fencing: a producer that lost its lease
 *    cannot write),
 * 2. checks the cursor is where this producer last saw it (compare-and-set:
 *    a retried or duplicated commit, e.g. ioredis resending after a reconnect,
 *    finds the cursor moved and writes nothing),
 * 3. XADDs every message whose dedupe id is not yet in the mailbox's published
 *    index, and records it there,
 * 4. moves the cursor (last_uid, uidvalidity, last_poll, total_emails),
 * 5. with `--events updated|deleted` (a {@link ChangeCommit}): checks the
 *    HIGHESTMODSEQ mark is where this producer last saw it (compare-and-set
 *    like the cursor), XADDs the `message_updated` / `message_deleted`
 *    entries, rewrites the changed fields of the flag state (known UIDs and
 *    their flags, as ranges), moves the mark and counts the entries written
 *    by type (what `stream inspect` sums).
 *
 * Redis runs a script to completion or not at all, so a crash of the producer
 * or of Redis at any instant neither loses nor duplicates an entry. Every key
 * of the script carries the mailbox's partition hash tag when the stream is
 * partitioned, so on Redis Cluster the script runs in one slot.
 *
 * With `replicas` (`REDIS_WAIT_REPLICAS`) the commit counts only once that
 * many replicas confirmed it (`WAIT`): a failover right after it then cannot
 * lose it. Fewer confirmations in time throw `REDIS_REPLICAS_BEHIND`
 * (retryable); the write itself stands on the master, and the retried round
 * reads the cursor back, so nothing is published twice.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { RedisError } from "../errors.ts";
import { waitForReplicas } from "../redis/replicas.ts";
import { type CommitEntry, PUBLISH_EMAILS_LUA, publishEmailsArgs } from "./publish_emails.ts";
import {
  cursorKey,
  entryCountsKey,
  flagStateKey,
  leaseKey,
  type MailboxRef,
  modseqKey,
  publishedIndexKey,
} from "../redis/keys.ts";
import { mailboxResetEntryFields, type MailboxResetPayload } from "../stream/entry.ts";
import { LuaScript } from "../redis/lua_script.ts";
import type { FlagStateWrites } from "./flag_state.ts";

// ARGV: 1 lease token, 2-3 expected uidvalidity and last uid, 4-5 new ones,
// 6 poll time, 7 the reset entry's field count n (0: none) and its n fields,
// then the email count and per email: dedupe id, field count m, m fields;
// then the change section: '0', or '1', expected mark, new mark ('' deletes
// it), clear ('1' drops the flag state first), the change entry count and per
// entry its field count and fields, the count of flag-state fields to set and
// their field/value pairs, the count of fields to delete and their names.
// The fields come from stream/entry.ts, the one owner of the entry format.
const COMMIT = new LuaScript(`
local stream, lease, lastUidKey, validityKey, pollKey, totalKey, index, modseq, flags, counts =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
if ARGV[1] ~= '' and redis.call('GET', lease) ~= ARGV[1] then
  return {'LEASE_LOST', 0, 0}
end
local validity = redis.call('GET', validityKey) or ''
local lastUid = redis.call('GET', lastUidKey) or ''
if validity ~= ARGV[2] or lastUid ~= ARGV[3] then
  return {'CURSOR_MOVED', 0, 0}
end
local resetCount = tonumber(ARGV[7])
local c = 8 + resetCount
local emails = tonumber(ARGV[c])
c = c + 1
for i = 1, emails do c = c + 2 + tonumber(ARGV[c + 1]) end
local tracked = counts ~= nil and ARGV[c] == '1'
if tracked and (redis.call('GET', modseq) or '') ~= ARGV[c + 1] then
  return {'CURSOR_MOVED', 0, 0}
end
local published, skipped, changed = 0, 0, 0
local at = 8
if resetCount > 0 then
  redis.call('XADD', stream, '*', unpack(ARGV, at, at + resetCount - 1))
  if counts then redis.call('HINCRBY', counts, 'mailbox_reset', 1) end
end
at = at + resetCount
local count = tonumber(ARGV[at])
at = at + 1
${PUBLISH_EMAILS_LUA}redis.call('SET', validityKey, ARGV[4])
redis.call('SET', lastUidKey, ARGV[5])
redis.call('SET', pollKey, ARGV[6])
if tracked then
  local mark = ARGV[c + 2]
  if ARGV[c + 3] == '1' then redis.call('DEL', flags) end
  changed = tonumber(ARGV[c + 4])
  c = c + 5
  for i = 1, changed do
    local n = tonumber(ARGV[c])
    redis.call('XADD', stream, '*', unpack(ARGV, c + 1, c + n))
    redis.call('HINCRBY', counts, ARGV[c + 2], 1)
    c = c + 1 + n
  end
  local sets = tonumber(ARGV[c])
  c = c + 1
  for i = 1, sets do
    redis.call('HSET', flags, ARGV[c], ARGV[c + 1])
    c = c + 2
  end
  local dels = tonumber(ARGV[c])
  c = c + 1
  for i = 1, dels do
    redis.call('HDEL', flags, ARGV[c])
    c = c + 1
  end
  if mark == '' then redis.call('DEL', modseq) else redis.call('SET', modseq, mark) end
end
if counts and published > 0 then redis.call('HINCRBY', counts, 'email', published) end
local total = redis.call('INCRBY', totalKey, published)
return {'OK', published, skipped, total, changed}
`);

export type { CommitEntry } from "./publish_emails.ts";

/**
 * The change-tracking part of a commit (`--events updated|deleted`): the
 * HIGHESTMODSEQ mark compared and moved like the cursor, the change entries,
 * and the flag-state fields that changed.
 */
export interface ChangeCommit {
  /** The mark as last read; `null` when absent. */
  readonly expectedMark: string | null;
  /** Where the mark moves; `null` deletes it (nothing observed yet). */
  readonly mark: string | null;
  /** Drop the whole flag state before writing (a UIDVALIDITY reset). */
  readonly clear?: boolean;
  /** Field lists of `message_updated` / `message_deleted` entries, XADDed after the emails. */
  readonly entries: readonly (readonly string[])[];
  readonly writes: FlagStateWrites;
}

/** The cursor a commit expects to find, and where it moves it. */
export interface CommitRequest {
  readonly stream: string;
  readonly ref: MailboxRef;
  /** The lease token; `""` commits without fencing (only for tools and tests). */
  readonly leaseToken: string;
  /** Cursor as last read: `null` fields mean "key absent". */
  readonly expected: { readonly uidValidity: number | null; readonly lastUid: number | null };
  readonly uidValidity: number;
  readonly lastUid: number;
  readonly entries: readonly CommitEntry[];
  /** A `mailbox_reset` control entry written before the emails. */
  readonly reset?: MailboxResetPayload;
  /** Time written to last_poll. Default now. */
  readonly now?: Date;
  /** Replicas that must confirm the commit (WAIT), and for how long to wait. Default none. */
  readonly replicas?: { readonly count: number; readonly timeoutMs: number };
  /** Change tracking (`--events updated|deleted`); absent with `--events new`. */
  readonly changes?: ChangeCommit;
}

/** What a commit did. */
export type CommitResult =
  | {
    readonly status: "ok";
    readonly published: number;
    readonly skipped: number;
    /** total_emails after the commit. */
    readonly total: number;
    /** Change entries written. */
    readonly changed: number;
  }
  | { readonly status: "lease_lost" }
  | { readonly status: "cursor_moved" };

/** Runs the atomic commit of one batch. */
export async function commitBatch(
  redis: RedisClient,
  request: CommitRequest,
): Promise<CommitResult> {
  const { ref } = request;
  const resetFields = request.reset ? mailboxResetEntryFields(request.reset) : [];
  const args: (string | number)[] = [
    request.leaseToken,
    request.expected.uidValidity === null ? "" : String(request.expected.uidValidity),
    request.expected.lastUid === null ? "" : String(request.expected.lastUid),
    String(request.uidValidity),
    String(request.lastUid),
    (request.now ?? new Date()).toISOString(),
    resetFields.length,
    ...resetFields,
    ...publishEmailsArgs(request.entries),
  ];
  args.push(...changeArgs(request.changes));
  const keys = [
    request.stream,
    leaseKey(ref),
    cursorKey(ref, "last_uid"),
    cursorKey(ref, "uidvalidity"),
    cursorKey(ref, "last_poll"),
    cursorKey(ref, "total_emails"),
    publishedIndexKey(ref),
    // Only with change tracking: a deployment without it needs no ACL grant for these.
    ...(request.changes ? [modseqKey(ref), flagStateKey(ref), entryCountsKey(ref)] : []),
  ];
  const reply = await COMMIT.run(redis, keys, args);
  if (!Array.isArray(reply)) {
    throw new RedisError("REDIS_BAD_REPLY", `The commit script answered ${JSON.stringify(reply)}`);
  }
  switch (reply[0]) {
    case "OK":
      if (request.replicas && request.replicas.count > 0) {
        await waitForReplicas(redis, request.stream, request.replicas);
      }
      return {
        status: "ok",
        published: Number(reply[1]),
        skipped: Number(reply[2]),
        total: Number(reply[3]),
        changed: Number(reply[4] ?? 0),
      };
    case "LEASE_LOST":
      return { status: "lease_lost" };
    case "CURSOR_MOVED":
      return { status: "cursor_moved" };
    default:
      throw new RedisError("REDIS_BAD_REPLY", `The commit script answered ${String(reply[0])}`);
  }
}

/** The change section of the script's ARGV (see COMMIT). */
function changeArgs(changes: ChangeCommit | undefined): (string | number)[] {
  if (!changes) return ["0"];
  const args: (string | number)[] = [
    "1",
    changes.expectedMark ?? "",
    changes.mark ?? "",
    changes.clear ? "1" : "0",
    changes.entries.length,
  ];
  for (const fields of changes.entries) args.push(fields.length, ...fields);
  args.push(changes.writes.set.length);
  for (const [field, value] of changes.writes.set) args.push(field, value);
  args.push(changes.writes.delete.length, ...changes.writes.delete);
  return args;
}
