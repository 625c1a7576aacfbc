/**
 * What the producer knows about each followed mailbox right now, for
 * `/status`, `/ready` and the handle returned by `startProducer`.
 *
 * @module
 */

import type { ConnectionState } from "../observe/events.ts";

/** State of a mailbox follower. */
export type FollowerState =
  | ConnectionState
  /** Another producer holds the mailbox lease; this one waits to take over. */
  | "standby"
  /** Caught up (`--once`) or shut down. */
  | "stopped";

/** The history backfill lane of a mailbox, as this process runs it. */
export interface BackfillLaneStatus {
  /**
   * `running`; `paused`: the daily download budget is used up; `throttled`:
   * the account holds after `[THROTTLED]`; `retrying`: backing off after a
   * failure; `done`.
   */
  state: "running" | "paused" | "throttled" | "retrying" | "done";
  /** The backfill's cursor (every history UID up to it is in). */
  doneUid: number;
  /** UIDNEXT-1 when the backfill began. */
  snapshotUid: number;
}

/** One mailbox, as `status()` reports it (JSON-friendly). */
export interface MailboxStatus {
  /** The account. */
  readonly account: string;
  /** Mailbox path. */
  readonly mailbox: string;
  /** What the follower is doing now. */
  state: FollowerState;
  /** Committed position; `null` before the first sync. */
  cursor: { lastUid: number; uidValidity: number } | null;
  /** ISO time of the last successful sync round. */
  lastPollAt: string | null;
  /** The last failure (message only, no mail content). */
  lastError: { message: string; at: string } | null;
  /**
   * The login was rejected or the OAuth2 grant is dead (state `needs_reauth`):
   * the mailbox is not retried until the credentials change.
   */
  parked: boolean;
  /**
   * Redis refuses the commits (out of memory, unreachable, ...) since `since`:
   * the round is retried; `null` while commits go through.
   */
  redisRefusing: { kind: string; since: string } | null;
  /** Fetching is paused because the stream backlog is above the limit. */
  backlogPaused: boolean;
  /** While paused for backlog: the consumer groups whose backlog is above the limit. */
  backlogHeldBy: string[];
  /** This process holds the mailbox lease. */
  leaseHeld: boolean;
  /** Entries published by this process. */
  published: number;
  /** Messages recognised as already published and skipped. */
  skipped: number;
  /** The history backfill lane; `null` or absent while this process runs none. */
  backfill?: BackfillLaneStatus | null;
  /**
   * The open IMAP connection: when the server last sent anything and which
   * command waits for an answer since when (ISO times); `null` while none is open.
   * Filled in when the status is read.
   */
  connection?: {
    lastHeardAt: string;
    outstanding: { command: string; since: string } | null;
  } | null;
}

/** A new status record for a mailbox. */
export function initialStatus(account: string, mailbox: string): MailboxStatus {
  return {
    account,
    mailbox,
    state: "connecting",
    cursor: null,
    lastPollAt: null,
    lastError: null,
    parked: false,
    redisRefusing: null,
    backlogPaused: false,
    backlogHeldBy: [],
    leaseHeld: false,
    published: 0,
    skipped: 0,
  };
}
