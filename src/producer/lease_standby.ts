/**
 * Holding a mailbox lease over time: {@link waitForLease} stands by while
 * another producer holds it; {@link keepLease} renews it every third of its
 * TTL (on a timer shared by every lease of that TTL) and reports when it was lost.
 *
 * @module
 */

import { everyInterval } from "../async/shared_interval.ts";
import { describeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { sleep } from "../retry/backoff.ts";
import { LeaseBusyError, viaRedis } from "./follower_errors.ts";
import type { MailboxLease } from "./lease.ts";
import type { MailboxReport } from "./mailbox_report.ts";

/** Options of {@link waitForLease}. */
export interface LeaseWaitOptions {
  readonly report: MailboxReport;
  readonly logger: Logger;
  /** `--once`: give up (with a {@link LeaseBusyError}) after 1.5 TTLs of standby. */
  readonly once: boolean;
  readonly signal: AbortSignal;
}

/** How often a standby asks for the lease: a tenth of the TTL, within 100 ms .. 1 s. */
export function leasePollMs(ttlMs: number): number {
  return Math.min(1_000, Math.max(100, Math.floor(ttlMs / 10)));
}

/** Waits until this process holds the lease (state `standby` while another producer does). */
export async function waitForLease(lease: MailboxLease, options: LeaseWaitOptions): Promise<void> {
  const { report, logger, signal } = options;
  const pollMs = leasePollMs(lease.ttlMs);
  const giveUpAt = Date.now() + lease.ttlMs * 1.5;
  let announced = false;
  while (!signal.aborted) {
    if (await viaRedis("lease", () => lease.acquire())) {
      report.leaseChanged(true);
      logger.info("lease acquired", { ttl_ms: lease.ttlMs });
      return;
    }
    if (!announced) {
      announced = true;
      report.setState("standby");
      logger.info("another producer holds the mailbox lease: standing by");
    }
    if (options.once && Date.now() > giveUpAt) throw new LeaseBusyError(lease.ref.mailbox);
    await sleep(pollMs, signal).catch(() => {});
  }
}

/** A running renewal; {@link LeaseRenewal.stop} ends it. */
export interface LeaseRenewal {
  stop(): void;
}

/** Options of {@link keepLease}. */
export interface KeepLeaseOptions {
  readonly logger: Logger;
  /** Once aborted, a failed renewal is no longer reported. */
  readonly signal: AbortSignal;
  /** Called when a renewal found the lease taken by another producer. */
  readonly onLost: () => void;
}

/**
 * Renews the lease every third of its TTL. While Redis is unreachable a
 * renewal just fails: the commit's fencing check keeps that safe meanwhile.
 */
export function keepLease(lease: MailboxLease, options: KeepLeaseOptions): LeaseRenewal {
  // Renewals of one TTL share one timer: a fleet process renews hundreds of leases.
  const stop = everyInterval(Math.floor(lease.ttlMs / 3), () => {
    lease.acquire().then((held) => {
      if (held || options.signal.aborted) return;
      options.onLost();
    }).catch((error) => {
      options.logger.debug("lease renewal failed", { error: describeError(error) });
    });
  });
  return { stop };
}
