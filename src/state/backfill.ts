/**
 * The history backfill of a mailbox: when a mailbox without state is first
 * followed, the producer snapshots UIDNEXT; mail from there on is followed by
 * the live path (`producer_state:…:last_uid` starts at the snapshot), and the
 * history at or below it is fetched by a separate, lower-priority lane whose
 * own cursor is this record (`producer_backfill:{account}:{mailbox}`, a hash).
 * Written only by the producer's backfill scripts; read here.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { backfillKey, type MailboxRef } from "../redis/keys.ts";

/** Whether the backfill still has history to fetch. */
export type BackfillState = "running" | "done";

/** One mailbox's backfill as stored. */
export interface Backfill {
  /** UIDVALIDITY the range belongs to (a change abandons the backfill: the live path re-syncs). */
  readonly uidValidity: number;
  /** History starts after this UID (0 with `--start all`). */
  readonly floorUid: number;
  /** UIDNEXT-1 when the backfill began: the live path follows every UID above it. */
  readonly snapshotUid: number;
  /** The backfill's cursor: every UID in (floor, done] is in the stream. */
  readonly doneUid: number;
  /** `running` while history is left to fetch, then `done`. */
  readonly state: BackfillState;
  /** Messages the backfill published. */
  readonly published: number;
  /** When the backfill began (ISO time). */
  readonly startedAt: string | null;
  /** When it finished (ISO time); `null` while running. */
  readonly finishedAt: string | null;
}

/** Parses the stored hash; `null` when there is none (or it is not one the producer wrote). */
export function parseBackfill(hash: Record<string, string>): Backfill | null {
  const number = (field: string) => Number(hash[field]);
  const state = hash.state;
  if (state !== "running" && state !== "done") return null;
  const record = {
    uidValidity: number("uidvalidity"),
    floorUid: number("floor_uid"),
    snapshotUid: number("snapshot_uid"),
    doneUid: number("done_uid"),
    state,
    published: number("published") || 0,
    startedAt: hash.started_at ?? null,
    finishedAt: hash.finished_at ?? null,
  } as const;
  const uids = [record.uidValidity, record.floorUid, record.snapshotUid, record.doneUid];
  return uids.every(Number.isInteger) ? record : null;
}

/** Reads one mailbox's backfill; `null` when it never had one. */
export async function readBackfill(redis: RedisClient, ref: MailboxRef): Promise<Backfill | null> {
  return parseBackfill(await redis.hgetall(backfillKey(ref)));
}

/** UIDs the backfill still has to cover (an upper bound: expunged UIDs count too). */
export function backfillRemainingUids(backfill: Backfill): number {
  return backfill.state === "done" ? 0 : Math.max(0, backfill.snapshotUid - backfill.doneUid);
}
