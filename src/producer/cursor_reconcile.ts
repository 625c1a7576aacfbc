/**
 * Brings a stored cursor in line with a mailbox as opened: the same
 * UIDVALIDITY resumes where it stands; no cursor starts per `--start` (or
 * from a last UID left by `ingest state reset`); a changed UIDVALIDITY starts
 * again at 0 with a `mailbox_reset` entry (the published index keeps
 * re-emits out). Both publishers use it; only the Redis one commits the move.
 *
 * @module
 */

import type { Logger } from "../log/logger.ts";
import type { MailboxRef } from "../redis/keys.ts";
import type { CursorPosition } from "../state/cursor.ts";
import { type MailboxResetPayload, SCHEMA_VERSION } from "../stream/entry.ts";
import type { Position, StartPoint } from "./publisher.ts";

/** What to do with the stored cursor. */
export type Reconciliation =
  /** The cursor is valid: go on from it. */
  | { readonly kind: "resume"; readonly position: Position }
  /** Move the cursor from `expected` to `position`, writing `reset` first when given. */
  | {
    readonly kind: "move";
    readonly expected: CursorPosition;
    readonly position: Position;
    readonly reset?: MailboxResetPayload;
  };

/** Options of {@link reconcileCursor}. */
export interface ReconcileOptions {
  readonly ref: MailboxRef;
  /** Asked for only when the mailbox has no UIDVALIDITY and no last UID stored. */
  readonly start: StartPoint;
  readonly logger: Logger;
  /** Time of a `mailbox_reset`. Default now. */
  readonly now?: Date;
}

/** Decides how `stored` meets a mailbox whose UIDVALIDITY is `uidValidity`; see the module. */
export async function reconcileCursor(
  stored: CursorPosition,
  uidValidity: number,
  options: ReconcileOptions,
): Promise<Reconciliation> {
  const { ref, logger } = options;
  if (stored.uidValidity === uidValidity && stored.lastUid !== null) {
    return { kind: "resume", position: { uidValidity, lastUid: stored.lastUid } };
  }
  if (stored.uidValidity === null) {
    const lastUid = stored.lastUid ?? await options.start.uid();
    logger.info("starting mailbox", { start: options.start.kind, last_uid: lastUid });
    return { kind: "move", expected: stored, position: { uidValidity, lastUid } };
  }
  const reset: MailboxResetPayload = {
    schema_version: SCHEMA_VERSION,
    account: ref.account,
    mailbox: ref.mailbox,
    previous_uidvalidity: stored.uidValidity,
    uidvalidity: uidValidity,
    at: (options.now ?? new Date()).toISOString(),
  };
  logger.warn("UIDVALIDITY changed: resetting the cursor and re-syncing the mailbox", {
    previous_uidvalidity: stored.uidValidity,
    uidvalidity: uidValidity,
  });
  return { kind: "move", expected: stored, position: { uidValidity, lastUid: 0 }, reset };
}
