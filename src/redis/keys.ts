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

/**
 * Reverses {@link cursorKey} for a `last_uid` key, partition included;
 * `undefined` if it is not one.
 */
export function parseCursorKey(key: string): MailboxRef | undefined {
  const match = /^producer_state:(?:\{p(\d+)\}:)?([^:]+):(.+):last_uid$/.exec(key);
  if (!match) return undefined;
  const ref = { account: match[2]!, mailbox: match[3]! };
  return match[1] === undefined ? ref : { ...ref, partition: Number(match[1]) };
}

/** Set of Message-IDs / X-GM-MSGIDs already published for a mailbox (UIDVALIDITY-proof dedupe). */
export function publishedIndexKey(ref: MailboxRef): string {
  return `producer_published:${mailboxScope(ref)}`;
}

/**
 * With `--events updated|deleted`: the HIGHESTMODSEQ up to which flag changes
 * and expunges are committed (`scan:<n>` on servers without CONDSTORE).
 */
export function modseqKey(ref: MailboxRef): string {
  return `producer_modseq:${mailboxScope(ref)}`;
}

/**
 * With `--events updated|deleted`: the known UIDs and their last published
 * flags/labels, a hash of flag combination → UID ranges (see
 * `producer/flag_state.ts`).
 */
export function flagStateKey(ref: MailboxRef): string {
  return `producer_flags:${mailboxScope(ref)}`;
}

/** Entries the producer committed for a mailbox, by type (a hash: `email` → n, ...). */
export function entryCountsKey(ref: MailboxRef): string {
  return `producer_entry_counts:${mailboxScope(ref)}`;
}

/** SCAN pattern matching every mailbox's {@link entryCountsKey}. */
export const ENTRY_COUNTS_SCAN_PATTERN = "producer_entry_counts:*";

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

/**
 * Bytes downloaded per account and hour, for the Gmail bandwidth quota; with
 * the account's partition, `producer_bandwidth:{p<i>}:account:hour`.
 */
export function bandwidthKey(account: string, hourEpoch: number, partition?: number): string {
  const scope = partition === undefined ? account : `${partitionTag(partition)}:${account}`;
  return `producer_bandwidth:${scope}:${hourEpoch}`;
}

/**
 * The partition count a deployment's stream was set up with
 * (`STREAM_PARTITIONS`), checked at start so a changed count is refused
 * instead of silently moving every account to another partition.
 */
export function layoutKey(stream: string): string {
  return `ingest_layout:${stream}`;
}

/**
 * The `hourEpoch` of {@link bandwidthKey} for a time: whole hours since the
 * Unix epoch (`Math.floor(ms / 3_600_000)`). Writers (producer) and readers
 * (metrics) both use this, so they agree on the bucket.
 */
export function bandwidthHour(timeMs: number): number {
  return Math.floor(timeMs / 3_600_000);
}

/**
 * The processed-records of a consumer group: a sorted set whose members are
 * the idempotency keys of the entries its sinks handled, each scored with
 * the Unix ms its record expires at (`PROCESSED_TTL_SECONDS` after the sink
 * succeeded). One key per group instead of one per entry: a batch's records
 * are one ZADD and its check one ZMSCORE.
 */
export function processedSetKey(stream: string, group: string): string {
  return `${stream}:processed:${group}`;
}

/**
 * Release 0.1.0's processed-record of one entry, a string key with a TTL per
 * idempotency key. Only the move to {@link processedSetKey} reads it
 * (`src/worker/legacy_records.ts`).
 */
export function legacyProcessedKey(stream: string, group: string, idempotencyKey: string): string {
  return `${stream}:processed:${group}:${idempotencyKey}`;
}

/**
 * Set once a group's release-0.1.0 processed-records were moved into its
 * {@link processedSetKey} (value: the Unix ms of the move), so later worker
 * starts skip the keyspace scan.
 */
export function processedMovedKey(stream: string, group: string): string {
  return `${stream}:processed-moved:${group}`;
}

/** Sorted set of entries waiting for a retry (score = due time in ms), per group. */
export function retryScheduleKey(stream: string, group: string): string {
  return `${stream}:retry:${group}`;
}

/** Hash of attempt counts and failure times for entries of a group. */
export function attemptsKey(stream: string, group: string): string {
  return `${stream}:attempts:${group}`;
}
