/**
 * Observation hooks of the producer and the worker. The core calls these at
 * the moments an operator cares about; `src/metrics/` turns them into
 * Prometheus metrics and the health server into `/ready` and `/status`.
 * Every hook is optional, so tests and library users can pass `{}`.
 *
 * Hooks never receive email content or addresses other than the account;
 * metrics label accounts by their configured alias.
 *
 * @module
 */

import type { MailboxRef } from "../redis/keys.ts";
import type { RedisFailureKind } from "../redis/redis_failure.ts";

/** State of a mailbox's IMAP session. */
export type ConnectionState =
  | "connecting"
  | "connected"
  | "idle"
  | "disconnected"
  /** The login was rejected or the OAuth2 grant is dead: parked until the credentials change. */
  | "needs_reauth";

/** What the producer reports. */
export interface ProducerObserver {
  /** A sync round of a mailbox finished (`ok`) or failed. */
  polled?(ref: MailboxRef, seconds: number, outcome: "ok" | "error"): void;
  /** Entries were committed to the stream (`skipped`: duplicates not published again). */
  published?(ref: MailboxRef, published: number, skipped: number): void;
  /** A message was published with a `parse_error`. */
  parseError?(ref: MailboxRef): void;
  /** Bytes fetched from the IMAP server for an account. */
  bytesDownloaded?(account: string, bytes: number): void;
  /** The IMAP session of a mailbox changed state. */
  connectionState?(ref: MailboxRef, state: ConnectionState): void;
  /** The server sent something on the session (IDLE health). */
  serverHeard?(ref: MailboxRef): void;
  /** The single-producer lease was acquired (`true`) or lost/released (`false`). */
  leaseHeld?(ref: MailboxRef, held: boolean): void;
  /** Fetching paused because the stream backlog exceeds the limit, or resumed. */
  backlogPaused?(ref: MailboxRef, paused: boolean): void;
  /** An access-token refresh finished. */
  tokenRefresh?(account: string, outcome: "ok" | "error"): void;
  /** The cursor moved after a commit. */
  cursor?(ref: MailboxRef, cursor: { lastUid: number; uidValidity: number; total: number }): void;
  /** A mailbox hit an error (already logged); `retryInMs` is the backoff before the next try. */
  error?(ref: MailboxRef, error: unknown, retryInMs: number | undefined): void;
  /**
   * Sync progress of a mailbox: `done` of `total` messages known to be new at
   * the start of this round (a backfill shows a progress bar from this).
   */
  progress?(ref: MailboxRef, done: number, total: number): void;
  /**
   * History backfill progress of a new mailbox, beside its live rounds:
   * `done` of `total` messages below the UIDNEXT snapshot left at the start of
   * this run of the backfill lane.
   */
  backfillProgress?(ref: MailboxRef, done: number, total: number): void;
  /**
   * The mailbox's history backfill ended: `done` (every UID below the snapshot
   * is in, or was expunged) or `dropped` (a UIDVALIDITY change; the live path
   * re-syncs). Nothing of it is left to report.
   */
  backfillEnded?(ref: MailboxRef, outcome: "done" | "dropped"): void;
  /** A UIDVALIDITY change was handled. */
  mailboxReset?(ref: MailboxRef): void;
  /** Change entries (`--events updated|deleted`) were committed to the stream. */
  changesPublished?(
    ref: MailboxRef,
    type: "message_updated" | "message_deleted",
    count: number,
  ): void;
}

/** Outcome of handling one entry. */
export type ProcessOutcome = "processed" | "duplicate" | "retry_scheduled" | "dead_lettered";

/** What the worker reports. */
export interface WorkerObserver {
  /**
   * An entry was handled. `seconds` is the handler time; `endToEndSeconds`
   * runs from the message's internal date to now, when known.
   */
  handled?(outcome: ProcessOutcome, seconds: number, endToEndSeconds: number | undefined): void;
  /** The sink failed for an entry (before deciding retry vs DLQ). */
  failed?(reason: "retryable" | "permanent" | "malformed"): void;
  /** Entries were reclaimed from a dead consumer. */
  reclaimed?(count: number): void;
  /** The read loop completed an iteration (liveness for `/ready`). */
  heartbeat?(): void;
  /** Redis refused to settle a handled entry (`reason`: oom, unreachable, ...); it is retried. */
  settleRefused?(reason: RedisFailureKind): void;
  /** Handled entries now waiting for a settle Redis refused (0 once all went through). */
  unsettled?(count: number): void;
}

/**
 * One observer that forwards every hook to each of `observers` in order
 * (e.g. metrics plus the producer's own status tracking). A hook that throws
 * does not stop the others from being called; the first error is rethrown.
 */
export function combineObservers<T extends object>(...observers: T[]): T {
  const cache = new Map<PropertyKey, ((...args: unknown[]) => void) | undefined>();
  return new Proxy({} as T, {
    get(_target, name) {
      if (cache.has(name)) return cache.get(name);
      const calls = observers.flatMap((observer) => {
        const hook = (observer as Record<PropertyKey, unknown>)[name];
        return typeof hook === "function" ? [{ observer, hook }] : [];
      });
      const combined = calls.length === 0 ? undefined : (...args: unknown[]) => {
        let failure: unknown;
        let failed = false;
        for (const { observer, hook } of calls) {
          try {
            hook.apply(observer, args);
          } catch (error) {
            if (!failed) failure = error;
            failed = true;
          }
        }
        if (failed) throw failure;
      };
      cache.set(name, combined);
      return combined;
    },
  });
}
