/**
 * The producer's atomic commit: one Lua script per batch that
 * 1. checks the mailbox lease token (fencing: a producer that lost its lease
 *    cannot write),
 * 2. checks the cursor is where this producer last saw it (compare-and-set:
 *    a retried or duplicated commit, e.g. ioredis resending after a reconnect,
 *    finds the cursor moved and writes nothing),
 * 3. XADDs every message whose dedupe id is not yet in the mailbox's published
 *    index, and records it there,
 * 4. moves the cursor (last_uid, uidvalidity, last_poll, total_emails).
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
import { cursorKey, leaseKey, type MailboxRef, publishedIndexKey } from "../redis/keys.ts";
import {
  emailEntryFields,
  type EmailPayload,
  mailboxResetEntryFields,
  type MailboxResetPayload,
} from "../stream/entry.ts";
import { LuaScript } from "../redis/lua_script.ts";

// ARGV: 1 lease token, 2-3 expected uidvalidity and last uid, 4-5 new ones,
// 6 poll time, 7 the reset entry's field count n (0: none) and its n fields,
// then the email count and per email: dedupe id, field count m, m fields.
// The fields come from stream/entry.ts, the one owner of the entry format.
const COMMIT = new LuaScript(`
local stream, lease, lastUidKey, validityKey, pollKey, totalKey, index =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
if ARGV[1] ~= '' and redis.call('GET', lease) ~= ARGV[1] then
  return {'LEASE_LOST', 0, 0}
end
local validity = redis.call('GET', validityKey) or ''
local lastUid = redis.call('GET', lastUidKey) or ''
if validity ~= ARGV[2] or lastUid ~= ARGV[3] then
  return {'CURSOR_MOVED', 0, 0}
end
local published, skipped = 0, 0
local at = 8
local resetCount = tonumber(ARGV[7])
if resetCount > 0 then
  redis.call('XADD', stream, '*', unpack(ARGV, at, at + resetCount - 1))
end
at = at + resetCount
local count = tonumber(ARGV[at])
at = at + 1
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
redis.call('SET', validityKey, ARGV[4])
redis.call('SET', lastUidKey, ARGV[5])
redis.call('SET', pollKey, ARGV[6])
local total = redis.call('INCRBY', totalKey, published)
return {'OK', published, skipped, total}
`);

/** One message of a batch. */
export interface CommitEntry {
  readonly payload: EmailPayload;
  /** Identity across UIDVALIDITY changes (see `dedupeId`). */
  readonly dedupeId: string;
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
}

/** What a commit did. */
export type CommitResult =
  | {
    readonly status: "ok";
    readonly published: number;
    readonly skipped: number;
    /** total_emails after the commit. */
    readonly total: number;
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
    request.entries.length,
  ];
  for (const entry of request.entries) {
    const fields = emailEntryFields(entry.payload);
    args.push(entry.dedupeId, fields.length, ...fields);
  }
  const keys = [
    request.stream,
    leaseKey(ref),
    cursorKey(ref, "last_uid"),
    cursorKey(ref, "uidvalidity"),
    cursorKey(ref, "last_poll"),
    cursorKey(ref, "total_emails"),
    publishedIndexKey(ref),
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
      };
    case "LEASE_LOST":
      return { status: "lease_lost" };
    case "CURSOR_MOVED":
      return { status: "cursor_moved" };
    default:
      throw new RedisError("REDIS_BAD_REPLY", `The commit script answered ${String(reply[0])}`);
  }
}
