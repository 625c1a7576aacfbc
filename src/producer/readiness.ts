/**
 * `/ready` for one followed mailbox: healthy when connected (or idling,
 * standing by, or done with `--once`) and the connection is not stuck. A
 * stuck connection is one whose command has had no answer for longer than
 * IMAP_COMMAND_TIMEOUT_SECONDS, or an idling one the server has not spoken
 * on for longer than a whole IDLE check plus that bound.
 *
 * @module
 */

import type { ConnectionActivity } from "../imap/connection_watchdog.ts";
import type { MailboxStatus } from "./mailbox_status.ts";

/** The bounds a mailbox is judged by. */
export interface ReadinessBounds {
  /** IMAP_COMMAND_TIMEOUT_SECONDS in ms. */
  readonly commandTimeoutMs: number;
  /** IMAP_IDLE_CHECK_SECONDS in ms. */
  readonly idleCheckMs: number;
  /** `--once`: a stopped mailbox is done, not down. */
  readonly once: boolean;
}

/** The verdict on one mailbox, as `/ready` shows it. */
export interface MailboxCheck {
  /** The mailbox's path, e.g. `INBOX`. */
  readonly mailbox: string;
  /** Its follower's state, e.g. `idle`, `standby`, `needs_reauth`. */
  readonly state: string;
  /** Whether this mailbox counts as ready. */
  readonly ok: boolean;
  /** Why it is not ok. */
  readonly reason?: string;
}

/** Judges one mailbox at time `now` (ms). */
export function mailboxCheck(
  status: MailboxStatus,
  activity: ConnectionActivity | undefined,
  bounds: ReadinessBounds,
  now: number,
): MailboxCheck {
  const { mailbox, state } = status;
  const verdict = (reason?: string): MailboxCheck =>
    reason === undefined ? { mailbox, state, ok: true } : { mailbox, state, ok: false, reason };
  if (status.parked) {
    return verdict(
      "needs_reauth: the login was refused: fix IMAP_PASSWORD or run `ingest auth setup`",
    );
  }
  if (status.redisRefusing) {
    const { kind, since } = status.redisRefusing;
    return verdict(
      kind === "oom"
        ? `Redis is out of memory since ${since}: commits are refused; raise maxmemory or free memory`
        : `Redis refuses commits (${kind}) since ${since}: the round is retried`,
    );
  }
  if (state === "standby") return verdict();
  if (state === "stopped") return verdict(bounds.once ? undefined : "stopped");
  if (state !== "connected" && state !== "idle") return verdict(`not connected (${state})`);
  if (activity === undefined) return verdict();
  const outstanding = activity.outstanding;
  if (outstanding) {
    const silentMs = now - Math.max(outstanding.since, activity.lastHeardAt);
    if (silentMs > bounds.commandTimeoutMs) {
      return verdict(
        `stuck: ${outstanding.command} has had no answer for ${Math.round(silentMs / 1000)} s`,
      );
    }
  } else if (state === "idle") {
    const silentMs = now - activity.lastHeardAt;
    if (silentMs > bounds.idleCheckMs + bounds.commandTimeoutMs) {
      return verdict(`stuck: no server activity for ${Math.round(silentMs / 1000)} s while idle`);
    }
  }
  return verdict();
}
