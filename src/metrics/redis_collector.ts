/**
 * Gauges read from Redis at scrape time: stream depth, consumer-group lag,
 * pending count and oldest pending age, DLQ depth, each mailbox's last poll
 * age, published total and cursor, and each account's downloads over the
 * last 24 h. `produce`, `work` and `metrics serve` all register this same
 * collector, so a pipeline is watched even when no producer or worker runs.
 *
 * One Redis snapshot serves every gauge of one scrape. When Redis cannot be
 * read, `email_ingestion_redis_up` is 0 and the Redis-derived series are
 * absent, so the scrape itself still succeeds.
 *
 * @module
 */

import { Counter, Gauge, type Registry } from "prom-client";
import type { RedisClient } from "../redis/client.ts";
import { describeError } from "../errors.ts";
import { withDeadline } from "../async/deadline.ts";
import type { Logger } from "../log/logger.ts";
import { type Cursor, listCursors, readCursor } from "../state/cursor.ts";
import type { StreamReport } from "../stream/inspect.ts";
import { inspectPartitions } from "../stream/partitioned_inspect.ts";
import { streamPartitionsOf } from "../stream/partition_set.ts";
import { type AccountLabeler, accountLabeler } from "./account_label.ts";
import { GMAIL_DAILY_DOWNLOAD_BYTES, readDownloadedBytes } from "./bandwidth.ts";
import { METRIC_PREFIX } from "./registry.ts";
import { registerStreamGauges } from "./stream_gauges.ts";
import type { MailboxRef } from "../redis/keys.ts";

/** What one scrape read from Redis. */
export interface RedisSnapshot {
  /** Stream, groups and DLQ. */
  readonly stream: StreamReport;
  /** Every mailbox cursor. */
  readonly cursors: readonly Cursor[];
  /** Bytes downloaded over the last 24 h, by account address. */
  readonly downloaded: ReadonlyMap<string, number>;
  /** When the snapshot was taken (ms). */
  readonly takenAt: number;
}

/** Options of {@link registerRedisCollector}. */
export interface RedisCollectorOptions {
  /** A connection of its own: never one that blocks in XREADGROUP. */
  redis: RedisClient;
  /** Stream to read. */
  stream: string;
  /** Dead-letter stream. */
  dlqStream: string;
  /** Orphaned-group threshold in ms (`GROUP_ORPHAN_SECONDS`). Default 1 hour. */
  orphanMs?: number;
  /** Turns account addresses into labels. Default: a hash (see `accountLabeler`). */
  labelAccount?: AccountLabeler;
  /** Accounts whose downloads are reported even before they have a cursor (e.g. IMAP_USER). */
  accounts?: readonly string[];
  /**
   * `STREAM_PARTITIONS`: the partition streams read; the stream and DLQ
   * gauges have one series per partition stream. Default 1.
   */
  partitions?: number;
  /** Daily download limit reported as `email_ingestion_imap_daily_quota_bytes`. Default 2,500 MB. */
  dailyQuotaBytes?: number;
  /** Longest a scrape waits for Redis. Default 3000 ms. */
  timeoutMs?: number;
  /**
   * How long after it started a snapshot serves later scrapes too (a scrape's
   * own collectors always share one). Default 1000 ms.
   */
  snapshotReuseMs?: number;
  /**
   * How often the set of mailboxes is rediscovered with a SCAN over the whole
   * keyspace (expensive in a large keyspace); in between, the
   * known cursors are read directly. Default 60000 ms.
   */
  mailboxRescanMs?: number;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
  /** Logs read failures. */
  logger?: Logger;
}

/** Handle of a registered collector. */
export interface RedisCollector {
  /** The snapshot of the current scrape (or a fresh one); rejects when Redis cannot be read. */
  snapshot(): Promise<RedisSnapshot>;
}

/** Options of {@link readRedisSnapshot}. */
export type SnapshotOptions =
  & Pick<
    RedisCollectorOptions,
    "stream" | "dlqStream" | "partitions" | "orphanMs" | "accounts" | "now"
  >
  & {
    /** How to find every mailbox's cursor. Default {@link listCursors} (a SCAN). */
    cursors?: () => Promise<Cursor[]>;
  };

/** Reads everything the gauges show in one go. */
export async function readRedisSnapshot(
  redis: RedisClient,
  options: SnapshotOptions,
): Promise<RedisSnapshot> {
  const now = options.now ?? Date.now;
  const takenAt = now();
  const [stream, cursors] = await Promise.all([
    inspectPartitions(redis, {
      partitions: streamPartitionsOf({
        streamName: options.stream,
        dlqStreamName: options.dlqStream,
        partitions: options.partitions ?? 1,
      }),
      stream: options.stream,
      dlqStream: options.dlqStream,
      orphanMs: options.orphanMs,
      now,
    }),
    options.cursors ? options.cursors() : listCursors(redis),
  ]);
  const accounts = [...new Set([...(options.accounts ?? []), ...cursors.map((c) => c.account)])];
  // An account's bandwidth counters live in its partition, which its cursors carry.
  const partitionOf = new Map(cursors.map((c) => [c.account, c.partition]));
  const totals = await Promise.all(
    accounts.map((account) =>
      readDownloadedBytes(redis, account, { now: takenAt, partition: partitionOf.get(account) })
    ),
  );
  return {
    stream,
    cursors,
    downloaded: new Map(accounts.map((account, i) => [account, totals[i] ?? 0])),
    takenAt,
  };
}

/**
 * Registers the Redis-derived gauges on `registry`. Concurrent collect calls of
 * one scrape share a snapshot, so a scrape costs one round of Redis reads.
 */
export function registerRedisCollector(
  registry: Registry,
  options: RedisCollectorOptions,
): RedisCollector {
  const snapshot = sharedSnapshot(options);
  /** Resets a metric and, when Redis answers, fills it from the snapshot. */
  async function fill(reset: () => void, apply: (s: RedisSnapshot) => void): Promise<void> {
    reset();
    let value: RedisSnapshot;
    try {
      value = await snapshot();
    } catch {
      return; // reported once by snapshot() and by email_ingestion_redis_up
    }
    apply(value);
  }

  registerRedisGauges(registry, options, snapshot, fill);
  return { snapshot };
}

/**
 * One snapshot shared by the collect() calls of a scrape, reused until
 * `snapshotReuseMs` old; mailboxes are rediscovered every `mailboxRescanMs`.
 */
function sharedSnapshot(options: RedisCollectorOptions): () => Promise<RedisSnapshot> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const reuseMs = options.snapshotReuseMs ?? 1_000;
  const rescanMs = options.mailboxRescanMs ?? 60_000;
  let known: { refs: MailboxRef[]; scannedAt: number } | undefined;

  async function cursors(): Promise<Cursor[]> {
    if (known === undefined || performance.now() - known.scannedAt >= rescanMs) {
      const found = await listCursors(options.redis);
      known = {
        refs: found.map(({ account, mailbox, partition }) => ({ account, mailbox, partition })),
        scannedAt: performance.now(),
      };
      return found;
    }
    const read = await Promise.all(known.refs.map((ref) => readCursor(options.redis, ref)));
    return read.filter((cursor): cursor is Cursor => cursor !== null);
  }
  let current: { promise: Promise<RedisSnapshot>; startedAt: number } | undefined;

  function snapshot(): Promise<RedisSnapshot> {
    // prom-client starts every metric's collect() at once: they share one
    // read, which later scrapes reuse until it is `reuseMs` old.
    if (current && performance.now() - current.startedAt < reuseMs) return current.promise;
    const promise = withDeadline(
      readRedisSnapshot(options.redis, { ...options, cursors }),
      timeoutMs,
      "reading Redis for metrics",
    );
    current = { promise, startedAt: performance.now() };
    promise.catch((error) => {
      options.logger?.warn("metrics could not read Redis", { error: describeError(error) });
    });
    return promise;
  }
  return snapshot;
}

/** Resets a metric and, when Redis answers, fills it from the scrape's snapshot. */
export type Fill = (reset: () => void, apply: (s: RedisSnapshot) => void) => Promise<void>;

// size: declarative table (the Redis-derived metric families)
function registerRedisGauges(
  registry: Registry,
  options: RedisCollectorOptions,
  snapshot: () => Promise<RedisSnapshot>,
  fill: Fill,
): void {
  const label = options.labelAccount ?? accountLabeler();
  const registers = [registry];
  new Gauge({
    name: `${METRIC_PREFIX}redis_up`,
    help: "1 when the last scrape could read the stream and state from Redis, else 0.",
    registers,
    async collect() {
      try {
        await snapshot();
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });
  registerStreamGauges(registers, fill);

  const mailboxGauge = (
    suffix: string,
    help: string,
    value: (c: Cursor, at: number) => number | null,
  ) =>
    new Gauge({
      name: `${METRIC_PREFIX}${suffix}`,
      help,
      labelNames: ["account", "mailbox"] as const,
      registers,
      collect() {
        return fill(() => this.reset(), (s) => {
          for (const cursor of s.cursors) {
            const v = value(cursor, s.takenAt);
            if (v !== null) {
              this.set({ account: label(cursor.account), mailbox: cursor.mailbox }, v);
            }
          }
        });
      },
    });
  mailboxGauge(
    "mailbox_last_poll_age_seconds",
    "Seconds since the producer last finished a successful poll of a mailbox (from its cursor).",
    (c, at) => {
      const time = c.lastPoll === null ? NaN : Date.parse(c.lastPoll);
      return Number.isNaN(time) ? null : Math.max(0, (at - time) / 1000);
    },
  );
  mailboxGauge(
    "mailbox_last_uid",
    "The cursor: highest UID of a mailbox committed to the stream.",
    (c) => c.lastUid,
  );
  new Counter({
    name: `${METRIC_PREFIX}mailbox_emails_published_total`,
    help:
      "Messages published from a mailbox since its state was created (total_emails of its cursor).",
    labelNames: ["account", "mailbox"] as const,
    registers,
    collect() {
      return fill(() => this.reset(), (s) => {
        for (const cursor of s.cursors) {
          this.inc({ account: label(cursor.account), mailbox: cursor.mailbox }, cursor.totalEmails);
        }
      });
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}imap_downloaded_last_24h_bytes`,
    help:
      "Bytes an account downloaded over IMAP in the last 24 hourly buckets (Gmail: ~2,500 MB/day).",
    labelNames: ["account"] as const,
    registers,
    collect() {
      return fill(() => this.reset(), (s) => {
        for (const [account, bytes] of s.downloaded) this.set({ account: label(account) }, bytes);
      });
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}imap_daily_quota_bytes`,
    help: "The daily IMAP download limit the quota alert compares against.",
    registers,
  }).set(options.dailyQuotaBytes ?? GMAIL_DAILY_DOWNLOAD_BYTES);
}
