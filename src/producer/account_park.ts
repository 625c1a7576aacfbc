/**
 * Parking an account whose credentials were refused (state `needs_reauth`):
 * retrying would only get it locked. With `--once` the mailbox ends parked;
 * otherwise the lease is released (a standby with working credentials may
 * take over) and the credentials are read again until they change.
 *
 * @module
 */

import { describeError } from "../errors.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import type { Logger } from "../log/logger.ts";
import type { MailboxLease } from "./lease.ts";
import type { MailboxReport } from "./mailbox_report.ts";
import { waitForNewCredentials } from "./reauth_wait.ts";

/** Options of {@link parkAccount}. */
export interface ParkOptions {
  readonly report: MailboxReport;
  readonly credentials: CredentialsProvider;
  /** Released while parked, when held. */
  readonly lease: MailboxLease | undefined;
  readonly logger: Logger;
  /** `--once`: end parked at once instead of waiting. */
  readonly once: boolean;
  /** How often the credentials are read again. */
  readonly recheckMs: number;
  readonly signal: AbortSignal;
}

/** Parks the account; resolves `true` to try again (new credentials), `false` to end as `parked`. */
export async function parkAccount(error: unknown, options: ParkOptions): Promise<boolean> {
  const { report, lease, logger } = options;
  const { status } = report;
  status.parked = true;
  report.setState("needs_reauth");
  report.notify((o) => o.error?.(report.ref, error, undefined));
  logger.error("account parked: the credentials were refused", { error: describeError(error) });
  if (options.once) return false;
  if (lease && status.leaseHeld) {
    await lease.release().catch(() => {});
    report.leaseChanged(false);
  }
  const resumed = await waitForNewCredentials(options.credentials, {
    recheckMs: options.recheckMs,
    signal: options.signal,
  });
  if (resumed) {
    status.parked = false;
    logger.info("new credentials found: trying again");
  }
  return resumed;
}
