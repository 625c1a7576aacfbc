/**
 * Every Redis key `ingest` uses, named in one place. The producer-state keys
 * keep the seed's layout so its runbook commands
 * (`redis-cli GET "producer_state:{user}:{mailbox}:last_uid"`) keep working.
 *
 * @module
 */

/** One followed mailbox of one account. */
export interface MailboxRef {
  /** The account's address (IMAP user). */
  readonly account: string;
  /** Mailbox path, e.g. `INBOX` or `[Gmail]/All Mail`. */
  readonly mailbox: string;
  /**
   * The stream partition the account maps to when `STREAM_PARTITIONS` > 1;
   * `undefined` with one partition, where key names stay the seed's.
   */
  readonly partition?: number;
}

/**
 * The hash tag of a partition, `{p<i>}`: every key of one partition carries
 * it, so on Redis Cluster they share one slot and one script can touch them.
 */
export function partitionTag(partition: number): string {
  return `{p${partition}}`;
}

/**
 * The part of a per-mailbox key naming the mailbox: `account:mailbox`, or
 * `{p<i>}:account:mailbox` for a partitioned deployment. Every per-mailbox
 * key is `<prefix>:${mailboxScope(ref)}[:<suffix>]`, so the hash tag comes
 * first and decides the slot whatever the address or mailbox contains.
 */
export function mailboxScope(ref: MailboxRef): string {
  const base = `${ref.account}:${ref.mailbox}`;
  return ref.partition === undefined ? base : `${partitionTag(ref.partition)}:${base}`;
}

/** Fields of the producer's cursor, one string key each (seed layout). */
export const CURSOR_FIELDS = ["last_uid", "uidvalidity", "last_poll", "total_emails"] as const;

/** A field of the cursor. */
export type CursorField = (typeof CURSOR_FIELDS)[number];

/** `producer_state:{account}:{mailbox}:{field}`. */
export function cursorKey(ref: MailboxRef, field: CursorField): string {
  return `producer_state:${mailboxScope(ref)}:${field}`;
}

/** SCAN pattern matching every mailbox's `last_uid` key. */
export const CURSOR_SCAN_PATTERN = "producer_state:*:last_uid";

/** Reverses {@link cursorKey} for a `last_uid` key; `undefined` if it is not one. */
export function parseCursorKey(key: string): MailboxRef | undefined {
  const match = /^producer_state:([^:]+):(.+):last_uid$/.exec(key);
  return match ? { account: match[1]!, mailbox: match[2]! } : undefined;
}

/** Set of Message-IDs / X-GM-MSGIDs already published for a mailbox (UIDVALIDITY-proof dedupe). */
export function publishedIndexKey(ref: MailboxRef): string {
  return `producer_published:${mailboxScope(ref)}`;
}

/**
 * The history backfill of a mailbox that had no state when first followed: a
 * hash with its range and its own cursor (see `src/state/backfill.ts`).
 */
export function backfillKey(ref: MailboxRef): string {
  return `producer_backfill:${mailboxScope(ref)}`;
}

/** The single-producer lease of a mailbox. */
export function leaseKey(ref: MailboxRef): string {
  return `producer_lease:${mailboxScope(ref)}`;
}

/** Bytes downloaded per account and hour, for the Gmail bandwidth quota. */
export function bandwidthKey(account: string, hourEpoch: number): string {
  return `producer_bandwidth:${account}:${hourEpoch}`;
}

/**
 * The `hourEpoch` of {@link bandwidthKey} for a time: whole hours since the
 * Unix epoch (`Math.floor(ms / 3_600_000)`). Writers (producer) and readers
 * (metrics) both use this, so they agree on the bucket.
 */
export function bandwidthHour(timeMs: number): number {
  return Math.floor(timeMs / 3_600_000);
}

/** The idempotency record of a processed entry, per consumer group. */
export function processedKey(stream: string, group: string, idempotencyKey: string): string {
  return `${stream}:processed:${group}:${idempotencyKey}`;
}

/** Sorted set of entries waiting for a retry (score = due time in ms), per group. */
export function retryScheduleKey(stream: string, group: string): string {
  return `${stream}:retry:${group}`;
}

/** Hash of attempt counts and failure times for entries of a group. */
export function attemptsKey(stream: string, group: string): string {
  return `${stream}:attempts:${group}`;
}
