/**
 * Where a sync round's batches go. The {@link Publisher} interface has two
 * implementations: the Redis publisher (atomic commit with the cursor,
 * backpressure, housekeeping, fenced by the mailbox lease) and the dry-run
 * publisher (prints payloads, writes nothing). The supervisor and the sync
 * round never ask which one they have.
 *
 * @module
 */

import type { StartPosition } from "./start_position.ts";
import type { CommitEntry } from "./commit.ts";
import type { MailboxLease } from "./lease.ts";
import type { MailboxReport, Position } from "./mailbox_report.ts";
import type { Logger } from "../log/logger.ts";
import type { MailboxRef } from "../redis/keys.ts";
import type { ChangeTracker, EventSelection } from "./change_tracker.ts";

export type { Position } from "./mailbox_report.ts";

/** Where a mailbox without state begins, resolved against the open mailbox only when needed. */
export interface StartPoint {
  /** `--start` as given. */
  readonly kind: StartPosition["kind"];
  /** The UID to start after. */
  uid(): Promise<number>;
}

/** One commit batch: the payloads of consecutive UIDs up to `lastUid`. */
export interface PublishBatch {
  /** The batch's highest UID: where the cursor moves. */
  readonly lastUid: number;
  /** The messages that arrived (may be fewer than the UIDs: expunged meanwhile). */
  readonly entries: readonly CommitEntry[];
}

/** Where the change events of one mailbox go (`--events updated|deleted`). */
export interface ChangePublisher {
  /** Which change events are published. */
  readonly events: EventSelection;
  /** Without CONDSTORE: how many of the newest known messages have their flags read again per round. */
  readonly rescanLimit: number;
  /** The state the events are detected against (loaded by `prepare`). */
  readonly tracker: ChangeTracker;
  /** The mailbox's logger (labels only, never addresses). */
  readonly logger: Logger;
  /** Commits change entries (their stream fields) with the tracker's changes, moving the mark. */
  publishChanges(
    position: Position,
    entries: readonly (readonly string[])[],
    mark: string | null,
  ): Promise<Position>;
}

/** Where the batches of one mailbox go. */
export interface Publisher {
  /** The lease that fences this publisher's writes; `undefined` when it writes nothing. */
  readonly lease: MailboxLease | undefined;
  /**
   * Reads the cursor and reconciles it with the mailbox as opened (`--start`
   * on a first sync, a `mailbox_reset` on a UIDVALIDITY change).
   */
  prepare(uidValidity: number, start: StartPoint): Promise<Position>;
  /** Waits while the workers' backlog is too large; `keepAlive` pings IMAP meanwhile. */
  waitForRoom(keepAlive: () => Promise<void>, signal: AbortSignal): Promise<void>;
  /** Publishes one batch at `position`; `bytes` were downloaded for it. Returns the new position. */
  publish(position: Position, batch: PublishBatch, bytes: number): Promise<Position>;
  /** A round found nothing new: records the poll (and checks the lease). */
  recordPoll(position: Position): Promise<Position>;
  /** Change tracking; `undefined` when only new mail is published (`--events new`, dry runs). */
  readonly changes?: ChangePublisher;
}

/** How a producer publishes: picked once per producer, then one publisher per mailbox. */
export interface PublishingMode {
  /** Readies the stream before any follower starts (e.g. creates the consumer group). */
  prepareStream(): Promise<void>;
  /** The publisher of one mailbox. */
  publisher(ref: MailboxRef, report: MailboxReport, logger: Logger): Publisher;
}
