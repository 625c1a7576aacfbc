/**
 * What a mailbox's follower tells the outside: its {@link MailboxStatus}
 * (read by `/status` and `/ready`) and the observer hooks (metrics, progress
 * bars). The supervisor and the publisher of one mailbox share one report,
 * so each fact is recorded in one place.
 *
 * @module
 */

import { describeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { ProducerObserver } from "../observe/events.ts";
import type { MailboxRef } from "../redis/keys.ts";
import type { FollowerState, MailboxStatus } from "./mailbox_status.ts";

/** A committed (or, in a dry run, remembered) position in a mailbox. */
export interface Position {
  /** UIDVALIDITY the position belongs to. */
  readonly uidValidity: number;
  /** Highest UID handled. */
  readonly lastUid: number;
}

/** What a {@link MailboxReport} writes to. */
export interface MailboxReportOptions {
  readonly ref: MailboxRef;
  /** Updated in place; owned by the caller, who serves it. */
  readonly status: MailboxStatus;
  /** Hooks must not throw: a failing hook is logged at debug and ignored. */
  readonly observer: ProducerObserver;
  readonly logger: Logger;
}

/** The status and observer hooks of one mailbox. */
export class MailboxReport {
  readonly ref: MailboxRef;
  readonly status: MailboxStatus;
  readonly #observer: ProducerObserver;
  readonly #log: Logger;
  /** total_emails as last returned by a commit. */
  #total = 0;

  constructor(options: MailboxReportOptions) {
    this.ref = options.ref;
    this.status = options.status;
    this.#observer = options.observer;
    this.#log = options.logger;
  }

  /** Calls an observer hook; a failing hook is logged, never allowed to stop ingestion. */
  notify(call: (observer: ProducerObserver) => void): void {
    try {
      call(this.#observer);
    } catch (error) {
      this.#log.debug("observer hook failed", { error: describeError(error) });
    }
  }

  /** Moves to `state`; connection states are also reported to the observer. */
  setState(state: FollowerState): void {
    const { status } = this;
    if (status.state === state) return;
    status.state = state;
    if (state !== "standby" && state !== "stopped") {
      this.notify((o) => o.connectionState?.(this.ref, state));
    }
  }

  /** Records the last failure (its message only: no mail content). */
  recordError(error: unknown): void {
    this.status.lastError = { message: describeError(error), at: new Date().toISOString() };
  }

  /** Records whether this process holds the mailbox lease. */
  leaseChanged(held: boolean): void {
    if (this.status.leaseHeld === held) return;
    this.status.leaseHeld = held;
    this.notify((o) => o.leaseHeld?.(this.ref, held));
  }

  /** Records the committed position; `total` is total_emails when the commit returned it. */
  moved(position: Position, total?: number): Position {
    const { status } = this;
    const previous = status.cursor;
    status.cursor = { lastUid: position.lastUid, uidValidity: position.uidValidity };
    if (total !== undefined) this.#total = total;
    if (previous?.lastUid !== position.lastUid || previous?.uidValidity !== position.uidValidity) {
      const cursor = { ...status.cursor, total: this.#total };
      this.notify((o) => o.cursor?.(this.ref, cursor));
    }
    return position;
  }
}
