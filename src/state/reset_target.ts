/**
 * What `ingest state reset` checks before it writes: the mailbox must be
 * known (it has state in Redis, or it is configured in `IMAP_MAILBOX`), so a
 * misspelt `--mailbox` does not create a ghost cursor nobody follows.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import type { MailboxRef } from "../redis/keys.ts";
import { type Cursor, listCursors, readCursor } from "./cursor.ts";

/** The verdict of {@link resetTarget}. */
export interface ResetTarget {
  /** The mailbox's cursor now; `null` when it has no state. */
  readonly cursor: Cursor | null;
  /** It has state, or is one of the configured mailboxes. */
  readonly known: boolean;
  /** Mailboxes of the account that have state (to suggest when `known` is false). */
  readonly mailboxesWithState: readonly string[];
}

/** Looks up `ref`: its cursor, and whether a reset of it names a mailbox anyone follows. */
export async function resetTarget(
  redis: RedisClient,
  ref: MailboxRef,
  configuredMailboxes: readonly string[],
): Promise<ResetTarget> {
  const cursor = await readCursor(redis, ref);
  const known = cursor !== null || configuredMailboxes.includes(ref.mailbox);
  const mailboxesWithState = known ? [] : (await listCursors(redis))
    .filter((c) => c.account === ref.account)
    .map((c) => c.mailbox);
  return { cursor, known, mailboxesWithState };
}
