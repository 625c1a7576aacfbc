/**
 * The JSON view of a producer cursor, as `state get|list --json` and the
 * exporter's `/status` print it: snake_case keys as in the seed's Redis layout.
 *
 * @module
 */

import { type Backfill, backfillRemainingUids } from "./backfill.ts";
import type { Cursor } from "./cursor.ts";

/** A mailbox's history backfill as JSON; see `src/state/backfill.ts`. */
export interface BackfillView {
  readonly state: Backfill["state"];
  readonly uidvalidity: number;
  readonly floor_uid: number;
  readonly snapshot_uid: number;
  readonly done_uid: number;
  /** UIDs still to cover (an upper bound: expunged UIDs count too). */
  readonly remaining_uids: number;
  readonly published: number;
  readonly started_at: string | null;
  readonly finished_at: string | null;
}

/** The view of a backfill. */
export function backfillView(backfill: Backfill): BackfillView {
  return {
    state: backfill.state,
    uidvalidity: backfill.uidValidity,
    floor_uid: backfill.floorUid,
    snapshot_uid: backfill.snapshotUid,
    done_uid: backfill.doneUid,
    remaining_uids: backfillRemainingUids(backfill),
    published: backfill.published,
    started_at: backfill.startedAt,
    finished_at: backfill.finishedAt,
  };
}

/** One cursor as JSON (`last_uid`, `uidvalidity`, ...). */
export interface CursorView {
  readonly account: string;
  readonly mailbox: string;
  /** The stream partition of the account; `null` with one partition. */
  readonly partition: number | null;
  readonly last_uid: number;
  readonly uidvalidity: number | null;
  readonly last_poll: string | null;
  readonly total_emails: number;
  /** The history backfill; `null` when the mailbox never had one. */
  readonly backfill: BackfillView | null;
}

/** The view of `cursor`; `account` replaces its address (e.g. by a metrics label) when given. */
export function cursorView(cursor: Cursor, account: string = cursor.account): CursorView {
  return {
    account,
    mailbox: cursor.mailbox,
    partition: cursor.partition ?? null,
    last_uid: cursor.lastUid,
    uidvalidity: cursor.uidValidity,
    last_poll: cursor.lastPoll,
    total_emails: cursor.totalEmails,
    backfill: cursor.backfill ? backfillView(cursor.backfill) : null,
  };
}

/** Mailboxes and published messages of a set of cursors. */
export interface CursorTotalsView {
  readonly mailboxes: number;
  readonly total_emails: number;
}

/** One partition's row: its number (`null` with one partition) and totals. */
export interface PartitionCursorsView extends CursorTotalsView {
  readonly partition: number | null;
}

/**
 * Totals over every cursor, and one row per partition (every partition of
 * `STREAM_PARTITIONS`, empty ones too, so a runbook sees the layout).
 */
export function cursorTotals(
  cursors: readonly Cursor[],
  partitions: number,
): { totals: CursorTotalsView; partitions: PartitionCursorsView[] } {
  const sum = (of: readonly Cursor[]): CursorTotalsView => ({
    mailboxes: of.length,
    total_emails: of.reduce((total, c) => total + c.totalEmails, 0),
  });
  const numbers = partitions <= 1 ? [null] : Array.from({ length: partitions }, (_, i) => i);
  return {
    totals: sum(cursors),
    partitions: numbers.map((partition) => ({
      partition,
      ...sum(cursors.filter((c) => (c.partition ?? null) === partition)),
    })),
  };
}
