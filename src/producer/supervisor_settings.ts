/**
 * The tuning of a `MailboxSupervisor`: what `startProducer` derives
 * from the configuration for every mailbox it follows.
 *
 * @module
 */

import type { FetchLimits } from "../imap/mailbox_session.ts";
import type { RetryPolicy } from "./failure_policy.ts";
import type { StartPosition } from "./start_position.ts";

/** Tuning of a supervisor (all durations in ms). */
export interface SupervisorSettings {
  /** UIDs per commit (`--batch-size`). */
  readonly batchSize: number;
  readonly limits: FetchLimits;
  /** Wait between polls when IDLE is off or unavailable. */
  readonly pollIntervalMs: number;
  /** Longest IDLE before a NOOP checks the connection and IDLE is issued again. */
  readonly idleHeartbeatMs: number;
  /** How long a NOOP may take before the connection counts as dead. */
  readonly pingTimeoutMs: number;
  /** Server silence while a command is outstanding before the connection is reopened. */
  readonly commandTimeoutMs: number;
  /** Use IDLE when the server offers it. */
  readonly idle: boolean;
  /** Sync until caught up, then end. */
  readonly once: boolean;
  /** Where a mailbox without state begins. */
  readonly start: StartPosition;
  readonly retry: RetryPolicy;
  /** With `once`: consecutive failures before the mailbox is given up. */
  readonly onceMaxAttempts: number;
  /** While parked (`needs_reauth`, not `once`): how often the credentials are asked for again. */
  readonly reauthRecheckMs: number;
}
