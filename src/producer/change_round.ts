/**
 * One change round of a mailbox (`--events updated|deleted`), run after each
 * sync round: read what changed since the committed HIGHESTMODSEQ mark
 * ({@link ChangeSource}), detect updates and deletions against the flag
 * state ({@link detectChanges}), and commit their entries with the new mark
 * and the changed state in one atomic commit. Nothing is written when
 * nothing changed.
 *
 * - CONDSTORE and a mark: `CHANGEDSINCE mark` over `1..last_uid`; expunges
 *   from `VANISHED (EARLIER)` (QRESYNC) or else from a `UID SEARCH`.
 * - CONDSTORE and no mark yet (first round with `--events`, or after a
 *   UIDVALIDITY reset): one full read of every message's flags, the
 *   baseline (known messages' changes since their `email` are still events).
 * - No CONDSTORE: the flags of the newest `rescanLimit` known messages, and
 *   a `UID SEARCH` for expunges; the mark is then `scan:<n>`.
 *
 * @module
 */

import type { ChangeSource } from "../imap/change_feed.ts";
import {
  idempotencyKey,
  messageDeletedEntryFields,
  type MessageDeletedPayload,
  messageUpdatedEntryFields,
  type MessageUpdatedPayload,
  SCHEMA_VERSION,
} from "../stream/entry.ts";
import {
  detectChanges,
  type DetectedChanges,
  missingUids,
  nextModseqMark,
} from "./change_events.ts";
import type { MailboxReport } from "./mailbox_report.ts";
import type { ChangePublisher, Position } from "./publisher.ts";

/** Runs one change round at `position` (the cursor after the sync round); returns the position. */
export async function changeRound(
  source: ChangeSource,
  position: Position,
  publisher: ChangePublisher,
  report: MailboxReport,
): Promise<Position> {
  const { tracker } = publisher;
  await tracker.ensureLoaded();
  if (position.lastUid === 0) return position; // nothing published under this UIDVALIDITY
  try {
    const condstore = await source.condstore();
    const stored = tracker.mark;
    const since = condstore && stored !== null && /^\d+$/.test(stored) ? BigInt(stored) : null;
    const from = condstore ? 1 : tracker.state.lowestOfHighest(publisher.rescanLimit);
    const scan = await source.changes(from, position.lastUid, since);
    const vanished = scan.vanished ??
      missingUids(tracker.state, await source.uids(position.lastUid), position.lastUid);
    const detected = detectChanges(tracker.state, scan.rows, vanished, position.lastUid);
    const mark = condstore
      ? nextModseqMark(stored, detected.highestRowModseq, scan.highestModseq)
      : nextScanMark(stored, detected);
    if (mark === stored && !tracker.state.hasPendingWrites) return position;
    const entries = await changeEntries(source, detected, position, publisher, report, mark);
    const next = await publisher.publishChanges(position, entries, mark);
    if (entries.length > 0) {
      publisher.logger.info("change events committed", {
        updated: detected.updates.length,
        deleted: detected.deletions.length,
        // How they were found: QRESYNC VANISHED, CONDSTORE + UID SEARCH, or the bounded re-scan.
        via: !condstore ? "rescan" : scan.vanished !== null ? "qresync" : "condstore",
        baseline: condstore && since === null,
      });
    }
    return next;
  } catch (error) {
    tracker.invalidate(); // the copy may hold changes that were never committed
    throw error;
  }
}

/** Without CONDSTORE the mark only counts rounds that changed something (`scan:<n>`). */
function nextScanMark(stored: string | null, detected: DetectedChanges): string | null {
  if (detected.updates.length + detected.deletions.length === 0) return stored;
  const n = stored?.startsWith("scan:") ? Number(stored.slice(5)) : 0;
  return `scan:${n + 1}`;
}

/** The stream fields of the detected changes that `--events` asks for. */
async function changeEntries(
  source: ChangeSource,
  detected: DetectedChanges,
  position: Position,
  publisher: ChangePublisher,
  report: MailboxReport,
  mark: string | null,
): Promise<string[][]> {
  const { account, mailbox } = report.ref;
  const uidvalidity = position.uidValidity;
  const at = new Date().toISOString();
  const base = { schema_version: SCHEMA_VERSION, account, mailbox, uidvalidity, detected_at: at };
  const emailKey = (uid: number) => idempotencyKey(account, mailbox, uidvalidity, uid);
  const modseq = mark !== null && /^\d+$/.test(mark) ? mark : null;
  const fields: string[][] = [];
  if (publisher.events.updated && detected.updates.length > 0) {
    const ids = await source.messageIds(detected.updates.map((u) => u.uid));
    for (const update of detected.updates) {
      const payload: MessageUpdatedPayload = {
        ...base,
        uid: update.uid,
        message_id: ids.get(update.uid) ?? null,
        email_key: emailKey(update.uid),
        modseq: update.modseq === null ? null : update.modseq.toString(),
        old_flags: [...update.old.flags],
        new_flags: [...update.new.flags],
        old_labels: update.old.labels && [...update.old.labels],
        new_labels: update.new.labels && [...update.new.labels],
      };
      fields.push(messageUpdatedEntryFields(payload, mark ?? "scan"));
    }
  }
  if (publisher.events.deleted) {
    for (const deletion of detected.deletions) {
      const payload: MessageDeletedPayload = {
        ...base,
        uid: deletion.uid,
        email_key: emailKey(deletion.uid),
        modseq,
        last_flags: [...deletion.last.flags],
      };
      fields.push(messageDeletedEntryFields(payload));
    }
  }
  return fields;
}
