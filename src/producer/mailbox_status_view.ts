/**
 * The JSON view of a producer's status, as `/status` serves it: snake_case
 * keys like every JSON view of the project (`last_poll_at`, `last_error`,
 * `lease_held`, `backlog_paused`, ...). The in-memory {@link MailboxStatus}
 * stays a typed camelCase object; this view is the one wire format of it.
 *
 * @module
 */

import type { FollowerState, MailboxStatus } from "./mailbox_status.ts";

/** One mailbox in `/status`. */
export interface MailboxStatusView {
  /** The account, by its label (never the address in `/status`). */
  readonly account: string;
  /** Mailbox path. */
  readonly mailbox: string;
  /** What the mailbox's supervisor is doing now. */
  readonly state: FollowerState;
  /** Committed position, in the seed's cursor key names; `null` before the first sync. */
  readonly cursor: { readonly last_uid: number; readonly uidvalidity: number } | null;
  /** ISO time of the last successful sync round. */
  readonly last_poll_at: string | null;
  /** The last failure (message only, no mail content). */
  readonly last_error: { readonly message: string; readonly at: string } | null;
  /** Waiting for new credentials (`needs_reauth`). */
  readonly parked: boolean;
  /** Redis refuses the commits: which failure (`oom`, `unreachable`, ...) and since when. */
  readonly redis_refusing: { readonly kind: string; readonly since: string } | null;
  /** Fetching paused because the stream backlog is above the limit. */
  readonly backlog_paused: boolean;
  /** While paused: the consumer groups whose backlog is above STREAM_BACKLOG_LIMIT. */
  readonly backlog_held_by: readonly string[];
  /** This process holds the mailbox lease. */
  readonly lease_held: boolean;
  /** Entries published by this process. */
  readonly published: number;
  /** Messages recognised as already published and skipped. */
  readonly skipped: number;
  /** The history backfill lane of a new mailbox; `null` while none runs here. */
  readonly backfill: {
    readonly state: NonNullable<MailboxStatus["backfill"]>["state"];
    readonly done_uid: number;
    readonly snapshot_uid: number;
  } | null;
  /** The open IMAP connection (ISO times); `null` while none is open. */
  readonly connection: {
    readonly last_heard_at: string;
    readonly outstanding: { readonly command: string; readonly since: string } | null;
  } | null;
}

/** The snake_case view of one mailbox's status. */
export function mailboxStatusView(status: MailboxStatus): MailboxStatusView {
  const { cursor, connection } = status;
  return {
    account: status.account,
    mailbox: status.mailbox,
    state: status.state,
    cursor: cursor && { last_uid: cursor.lastUid, uidvalidity: cursor.uidValidity },
    last_poll_at: status.lastPollAt,
    last_error: status.lastError && { ...status.lastError },
    parked: status.parked,
    redis_refusing: status.redisRefusing && { ...status.redisRefusing },
    backlog_paused: status.backlogPaused,
    backlog_held_by: [...status.backlogHeldBy],
    lease_held: status.leaseHeld,
    published: status.published,
    skipped: status.skipped,
    backfill: status.backfill
      ? {
        state: status.backfill.state,
        done_uid: status.backfill.doneUid,
        snapshot_uid: status.backfill.snapshotUid,
      }
      : null,
    connection: connection
      ? {
        last_heard_at: connection.lastHeardAt,
        outstanding: connection.outstanding && { ...connection.outstanding },
      }
      : null,
  };
}
