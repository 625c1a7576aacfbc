/**
 * The JSON view of a producer cursor, as `state get|list --json` and the
 * exporter's `/status` print it: snake_case keys as in the seed's Redis layout.
 *
 * @module
 */

import type { Cursor } from "./cursor.ts";

/** One cursor as JSON (`last_uid`, `uidvalidity`, ...). */
export interface CursorView {
  readonly account: string;
  readonly mailbox: string;
  readonly last_uid: number;
  readonly uidvalidity: number | null;
  readonly last_poll: string | null;
  readonly total_emails: number;
}

/** The view of `cursor`; `account` replaces its address (e.g. by a metrics label) when given. */
export function cursorView(cursor: Cursor, account: string = cursor.account): CursorView {
  return {
    account,
    mailbox: cursor.mailbox,
    last_uid: cursor.lastUid,
    uidvalidity: cursor.uidValidity,
    last_poll: cursor.lastPoll,
    total_emails: cursor.totalEmails,
  };
}
