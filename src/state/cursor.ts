/**
 * The producer's cursor per account and mailbox: the last committed UID, the
 * UIDVALIDITY it belongs to, the last successful poll and a running total.
 * Written only inside the producer's atomic commit; read and reset here.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { RedisClient } from "../redis/client.ts";
import { type Backfill, readBackfill } from "./backfill.ts";
import {
  backfillKey,
  CURSOR_FIELDS,
  CURSOR_SCAN_PATTERN,
  cursorKey,
  type MailboxRef,
  parseCursorKey,
  publishedIndexKey,
} from "../redis/keys.ts";
import { scanKeys } from "../redis/scan.ts";

/** Where the producer stands in one mailbox. */
export interface Cursor {
  /** The account (IMAP user). */
  readonly account: string;
  /** Mailbox path. */
  readonly mailbox: string;
  /** The stream partition the account maps to; absent with one partition. */
  readonly partition?: number;
  /** Highest UID committed to the stream (0: nothing yet). */
  readonly lastUid: number;
  /** UIDVALIDITY that `lastUid` belongs to; `null` before the first sync. */
  readonly uidValidity: number | null;
  /** ISO time of the last successful poll; `null` before the first. */
  readonly lastPoll: string | null;
  /** Messages published from this mailbox so far. */
  readonly totalEmails: number;
  /**
   * The mailbox's history backfill (`producer_backfill:…`), when it had one:
   * while it runs, `lastUid` is the live cursor (every UID above the
   * backfill's snapshot up to it is in), and history at or below the snapshot
   * is in up to the backfill's `doneUid`. `undefined` where not read.
   */
  readonly backfill?: Backfill | null;
}

/** Reads one mailbox's cursor; `null` when there is no state at all. */
export async function readCursor(redis: RedisClient, ref: MailboxRef): Promise<Cursor | null> {
  const [values, backfill] = await Promise.all([
    redis.mget(...CURSOR_FIELDS.map((field) => cursorKey(ref, field))),
    readBackfill(redis, ref),
  ]);
  if (values.every((value) => value === null)) return null;
  const [lastUid, uidValidity, lastPoll, total] = values;
  return {
    account: ref.account,
    mailbox: ref.mailbox,
    ...(ref.partition === undefined ? {} : { partition: ref.partition }),
    lastUid: Number(lastUid ?? 0),
    uidValidity: uidValidity == null ? null : Number(uidValidity),
    lastPoll: lastPoll ?? null,
    totalEmails: Number(total ?? 0),
    backfill,
  };
}

/** The part of a cursor a commit compares against: `null` fields mean "key absent". */
export interface CursorPosition {
  /** UIDVALIDITY stored with the cursor; `null` before the first sync. */
  readonly uidValidity: number | null;
  /** Last committed UID; `null` when never written. */
  readonly lastUid: number | null;
}

/**
 * Reads the cursor's UIDVALIDITY and last UID exactly as stored (absent keys
 * stay `null`, unlike {@link readCursor}), which is what the producer's
 * compare-and-set commit expects to find.
 */
export async function readCursorPosition(
  redis: RedisClient,
  ref: MailboxRef,
): Promise<CursorPosition> {
  const [lastUid, uidValidity] = await redis.mget(
    cursorKey(ref, "last_uid"),
    cursorKey(ref, "uidvalidity"),
  );
  return {
    lastUid: lastUid == null ? null : Number(lastUid),
    uidValidity: uidValidity == null ? null : Number(uidValidity),
  };
}

/**
 * Every mailbox with state (of every partition, from every master of a
 * cluster), sorted by account then mailbox.
 */
export async function listCursors(redis: RedisClient): Promise<Cursor[]> {
  const refs = (await scanKeys(redis, CURSOR_SCAN_PATTERN))
    .map(parseCursorKey)
    .filter((ref): ref is MailboxRef => ref !== undefined);
  refs.sort((a, b) => compareText(a.account, b.account) || compareText(a.mailbox, b.mailbox));
  const cursors = await Promise.all(refs.map((ref) => readCursor(redis, ref)));
  return cursors.filter((cursor): cursor is Cursor => cursor !== null);
}

/** What {@link resetCursor} changed. */
export interface CursorReset {
  /** The cursor before the reset; `null` when there was none. */
  readonly before: Cursor | null;
  /** The UID the cursor now points at. */
  readonly lastUid: number;
}

/**
 * Moves a mailbox's cursor back to `toUid` (0: the beginning) so the producer
 * fetches everything after it again. The mailbox's published-index is cleared
 * too, otherwise the re-fetched messages would be recognised and skipped.
 * Workers still skip entries whose processed-record is inside its window.
 * A history backfill is dropped as well: the producer fetches everything
 * above `toUid` on its live path.
 */
export async function resetCursor(
  redis: RedisClient,
  ref: MailboxRef,
  toUid = 0,
): Promise<CursorReset> {
  if (!Number.isInteger(toUid) || toUid < 0) {
    throw new InvalidArgumentError(
      `Cannot reset cursor: toUid must be a whole number >= 0, current value is ${toUid}`,
    );
  }
  const before = await readCursor(redis, ref);
  await redis.multi()
    .set(cursorKey(ref, "last_uid"), String(toUid))
    .del(publishedIndexKey(ref))
    .del(backfillKey(ref))
    .exec();
  return { before, lastUid: toUid };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
