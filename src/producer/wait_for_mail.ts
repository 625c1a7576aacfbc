/**
 * Between sync rounds: IDLE (or a poll interval) until the mailbox changes.
 *
 * @module
 */

import { ImapError } from "../errors.ts";
import type { MailboxSession } from "../imap/mailbox_session.ts";
import type { MailboxReport } from "./mailbox_report.ts";

/** The supervisor settings the wait uses (all durations in ms). */
export interface WaitForMailSettings {
  readonly idle: boolean;
  readonly idleHeartbeatMs: number;
  readonly pollIntervalMs: number;
  readonly pingTimeoutMs: number;
}

/** IDLE (or a poll interval) until the mailbox changes; `false` when aborted. */
export async function waitForMail(
  session: MailboxSession,
  report: MailboxReport,
  settings: WaitForMailSettings,
  signal: AbortSignal,
): Promise<boolean> {
  const { idle, idleHeartbeatMs, pollIntervalMs, pingTimeoutMs } = settings;
  const idling = idle && session.supportsIdle;
  report.setState(idling ? "idle" : "connected");
  const outcome = await session.waitForChange(
    idling ? idleHeartbeatMs : pollIntervalMs,
    idling,
    signal,
  );
  report.setState("connected");
  if (outcome === "aborted") return false;
  if (outcome === "closed") {
    throw new ImapError("IMAP_CLOSED", "The IMAP server closed the connection");
  }
  // Quiet for a whole heartbeat (or a poll is due): check the connection and refresh the view.
  if (outcome === "timeout") await session.ping(pingTimeoutMs);
  return true;
}
