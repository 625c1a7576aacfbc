/**
 * The history backfill's atomic scripts, siblings of `commit.ts` (which they
 * leave alone): one plans a backfill for a mailbox without state, one commits
 * a batch of history. Both are fenced by the mailbox lease token, and the
 * batch commit compares-and-sets the backfill's own cursor (`done_uid`), so a
 * retried or duplicated commit writes nothing. Entries whose dedupe id is in
 * the published index are skipped, as in the live commit: a message seen by
 * both paths is in the stream once. Every key is per mailbox
 * (`…:${mailboxScope(ref)}`), so on a partitioned Cluster one slot holds them.
 *
 * @module
 */

import { RedisError } from "../errors.ts";
import type { RedisClient } from "../redis/client.ts";
import { LuaScript } from "../redis/lua_script.ts";
import {
  backfillKey,
  cursorKey,
  leaseKey,
  type MailboxRef,
  publishedIndexKey,
} from "../redis/keys.ts";
import { type CommitEntry, PUBLISH_EMAILS_LUA, publishEmailsArgs } from "./publish_emails.ts";

// ARGV: 1 lease token, 2 uidvalidity, 3 floor, 4 snapshot, 5 now.
// A running backfill of the same UIDVALIDITY is kept (a restart between this
// script and the cursor's first commit); a mailbox that has a cursor gets none.
const PLAN = new LuaScript(`
local lease, backfill, lastUidKey, validityKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if ARGV[1] ~= '' and redis.call('GET', lease) ~= ARGV[1] then return {'LEASE_LOST'} end
local stored = redis.call('HMGET', backfill, 'uidvalidity', 'state', 'snapshot_uid')
if stored[1] == ARGV[2] and stored[2] == 'running' then return {'KEPT', stored[3]} end
if redis.call('EXISTS', lastUidKey, validityKey) > 0 then return {'HAS_STATE'} end
if tonumber(ARGV[3]) >= tonumber(ARGV[4]) then return {'NONE'} end
redis.call('DEL', backfill)
redis.call('HSET', backfill, 'uidvalidity', ARGV[2], 'floor_uid', ARGV[3],
  'snapshot_uid', ARGV[4], 'done_uid', ARGV[3], 'state', 'running', 'published', 0,
  'started_at', ARGV[5])
return {'CREATED', ARGV[4]}
`);

// ARGV: 1 lease token, 2 uidvalidity, 3 expected done_uid, 4 new done_uid,
// 5 now, 6 the email count, then per email: dedupe id, field count n, n fields.
// The XADD loop is the live commit's (commit.ts), kept in step by hand.
const COMMIT = new LuaScript(`
local stream, lease, backfill, totalKey, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if ARGV[1] ~= '' and redis.call('GET', lease) ~= ARGV[1] then return {'LEASE_LOST'} end
local stored = redis.call('HMGET', backfill, 'uidvalidity', 'state', 'done_uid', 'snapshot_uid')
if stored[1] ~= ARGV[2] or stored[2] ~= 'running' or stored[3] ~= ARGV[3] then
  return {'CURSOR_MOVED'}
end
local published, skipped, count, at = 0, 0, tonumber(ARGV[6]), 7
${PUBLISH_EMAILS_LUA}redis.call('HSET', backfill, 'done_uid', ARGV[4])
redis.call('HINCRBY', backfill, 'published', published)
local state = 'running'
if tonumber(ARGV[4]) >= tonumber(stored[4]) then
  state = 'done'
  redis.call('HSET', backfill, 'state', state, 'finished_at', ARGV[5])
end
local total = redis.call('INCRBY', totalKey, published)
return {'OK', published, skipped, total, state}
`);

// ARGV: 1 lease token, 2 the UIDVALIDITY the mailbox no longer has.
const ABANDON = new LuaScript(`
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[2], 'uidvalidity') ~= ARGV[2] then return 0 end
return redis.call('DEL', KEYS[2])
`);

/** What {@link planBackfill} asks for. */
export interface BackfillPlanRequest {
  readonly ref: MailboxRef;
  /** The lease token; `""` plans without fencing (only for tools and tests). */
  readonly leaseToken: string;
  readonly uidValidity: number;
  /** History starts after this UID (what `--start` resolves to). */
  readonly floorUid: number;
  /** UIDNEXT-1 at open: the live path follows every UID above it. */
  readonly snapshotUid: number;
  readonly now?: Date;
}

/** What {@link planBackfill} found: where the live path starts, when a backfill covers the rest. */
export type BackfillPlan =
  /** A backfill covers (floor, snapshot]: the live cursor starts at `snapshotUid`. */
  | { readonly status: "backfill"; readonly snapshotUid: number }
  /** No backfill (nothing below the snapshot, or the mailbox has a cursor after all). */
  | { readonly status: "none" }
  | { readonly status: "lease_lost" };

/** Records a backfill for a mailbox without state (or finds the one a restart left). */
export async function planBackfill(
  redis: RedisClient,
  request: BackfillPlanRequest,
): Promise<BackfillPlan> {
  const { ref } = request;
  const keys = [
    leaseKey(ref),
    backfillKey(ref),
    cursorKey(ref, "last_uid"),
    cursorKey(ref, "uidvalidity"),
  ];
  const reply = await PLAN.run(redis, keys, [
    request.leaseToken,
    String(request.uidValidity),
    String(request.floorUid),
    String(request.snapshotUid),
    (request.now ?? new Date()).toISOString(),
  ]);
  const [status, snapshot] = Array.isArray(reply) ? reply : [];
  if (status === "KEPT" || status === "CREATED") {
    return { status: "backfill", snapshotUid: Number(snapshot) };
  }
  if (status === "NONE" || status === "HAS_STATE") return { status: "none" };
  if (status === "LEASE_LOST") return { status: "lease_lost" };
  throw new RedisError("REDIS_BAD_REPLY", `The backfill plan script answered ${String(status)}`);
}

/** One batch of history. */
export interface BackfillCommitRequest {
  readonly stream: string;
  readonly ref: MailboxRef;
  readonly leaseToken: string;
  readonly uidValidity: number;
  /** `done_uid` as last read. */
  readonly expectedDoneUid: number;
  /** Where `done_uid` moves (at the snapshot: the backfill is done). */
  readonly doneUid: number;
  readonly entries: readonly CommitEntry[];
  readonly now?: Date;
}

/** What a backfill commit did. */
export type BackfillCommitResult =
  | {
    readonly status: "ok";
    readonly published: number;
    readonly skipped: number;
    readonly total: number;
    readonly done: boolean;
  }
  | { readonly status: "lease_lost" }
  | { readonly status: "cursor_moved" };

/** Runs the atomic commit of one batch of history. */
export async function commitBackfillBatch(
  redis: RedisClient,
  request: BackfillCommitRequest,
): Promise<BackfillCommitResult> {
  const { ref } = request;
  const args: (string | number)[] = [
    request.leaseToken,
    String(request.uidValidity),
    String(request.expectedDoneUid),
    String(request.doneUid),
    (request.now ?? new Date()).toISOString(),
    ...publishEmailsArgs(request.entries),
  ];
  const keys = [
    request.stream,
    leaseKey(ref),
    backfillKey(ref),
    cursorKey(ref, "total_emails"),
    publishedIndexKey(ref),
  ];
  const reply = await COMMIT.run(redis, keys, args);
  const [status, published, skipped, total, state] = Array.isArray(reply) ? reply : [];
  if (status === "OK") {
    return {
      status: "ok",
      published: Number(published),
      skipped: Number(skipped),
      total: Number(total),
      done: state === "done",
    };
  }
  if (status === "LEASE_LOST") return { status: "lease_lost" };
  if (status === "CURSOR_MOVED") return { status: "cursor_moved" };
  throw new RedisError("REDIS_BAD_REPLY", `The backfill commit script answered ${String(status)}`);
}

/**
 * Drops a backfill of a UIDVALIDITY the mailbox no longer has: the live path
 * re-syncs the whole mailbox after its `mailbox_reset`, so the history is
 * covered there (the published index keeps re-emits out).
 */
export async function abandonBackfill(
  redis: RedisClient,
  ref: MailboxRef,
  leaseToken: string,
  uidValidity: number,
): Promise<void> {
  await ABANDON.run(redis, [leaseKey(ref), backfillKey(ref)], [leaseToken, String(uidValidity)]);
}
