/**
 * From what the server reports now to the events to publish: pure logic over
 * the {@link FlagState}, so every rule here is unit-tested without a server.
 *
 * - A known UID whose flags or labels differ from the recorded ones is an
 *   update (old → new); the same ones again is nothing (e.g. the MODSEQ of a
 *   message just published as an `email`).
 * - A UID not known but at or below the cursor is recorded silently: its
 *   `email` entry (or the baseline after enabling `--events`) carries it.
 * - A vanished UID that is known is a deletion; an unknown one (never
 *   published, or already reported) is nothing, so a restart or a server
 *   repeating `VANISHED (EARLIER)` never doubles a deletion.
 *
 * @module
 */

import type { ChangeRow } from "../imap/change_feed.ts";
import { type FlagState, type MessageMarks, normaliseMarks, sameMarks } from "./flag_state.ts";

/** A detected flag/label change of a known message. */
export interface DetectedUpdate {
  readonly uid: number;
  readonly old: MessageMarks;
  readonly new: MessageMarks;
  readonly modseq: bigint | null;
}

/** A detected expunge of a known message. */
export interface DetectedDeletion {
  readonly uid: number;
  /** The marks last recorded for it. */
  readonly last: MessageMarks;
}

/** What one read of changes amounts to. */
export interface DetectedChanges {
  readonly updates: readonly DetectedUpdate[];
  readonly deletions: readonly DetectedDeletion[];
  /** The highest MODSEQ among the rows; `null` when none carried one. */
  readonly highestRowModseq: bigint | null;
}

/**
 * Applies `rows` (current flags) and `vanished` (expunged UIDs) to `state`
 * and returns the changes; rows above `lastUid` (not published yet) are left
 * for their `email` entry.
 */
export function detectChanges(
  state: FlagState,
  rows: readonly ChangeRow[],
  vanished: readonly number[],
  lastUid: number,
): DetectedChanges {
  const updates: DetectedUpdate[] = [];
  const deletions: DetectedDeletion[] = [];
  let highest: bigint | null = null;
  const gone = new Set(vanished);
  for (const row of [...rows].sort((a, b) => a.uid - b.uid)) {
    if (row.modseq !== null && (highest === null || row.modseq > highest)) highest = row.modseq;
    if (row.uid > lastUid || gone.has(row.uid)) continue;
    const now = normaliseMarks(row.flags, row.labels);
    const before = state.set(row.uid, now);
    if (before !== undefined && !sameMarks(before, now)) {
      updates.push({ uid: row.uid, old: before, new: now, modseq: row.modseq });
    }
  }
  for (const uid of [...gone].sort((a, b) => a - b)) {
    const last = state.delete(uid);
    if (last !== undefined) deletions.push({ uid, last });
  }
  return { updates, deletions, highestRowModseq: highest };
}

/**
 * Known UIDs at or below `lastUid` that `present` (the server's UIDs up to
 * it) no longer lists. Known UIDs above the cursor (after `ingest state
 * reset --to-uid`) were not asked about, so they are not missing.
 */
export function missingUids(
  state: FlagState,
  present: readonly number[],
  lastUid: number,
): number[] {
  const here = new Set(present);
  return state.knownUids().filter((uid) => uid <= lastUid && !here.has(uid));
}

/**
 * The HIGHESTMODSEQ mark after a read: the largest of the stored mark, the
 * rows' MODSEQs and the mailbox's HIGHESTMODSEQ known before the read (every
 * change up to it was in the read's answer).
 */
export function nextModseqMark(
  stored: string | null,
  highestRowModseq: bigint | null,
  highestBefore: bigint | null,
): string {
  let mark = stored !== null && /^\d+$/.test(stored) ? BigInt(stored) : 0n;
  for (const value of [highestRowModseq, highestBefore]) {
    if (value !== null && value > mark) mark = value;
  }
  return mark.toString();
}
