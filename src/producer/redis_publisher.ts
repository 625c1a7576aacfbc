/**
 * The Redis publisher: each batch is one atomic commit of stream entries and
 * cursor (see `commit.ts`), fenced by the mailbox lease; before each batch it
 * waits while the workers' backlog is above the limit; after each it does the
 * housekeeping (bandwidth accounting, trimming) off the critical path.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import { describeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { bandwidthHour, bandwidthKey, type MailboxRef } from "../redis/keys.ts";
import { checkStreamLayout } from "../redis/layout.ts";
import { partitionStream, partitionStreams } from "../redis/partitions.ts";
import { sleep } from "../retry/backoff.ts";
import { readCursorPosition } from "../state/cursor.ts";
import { ensureGroup } from "../stream/group.ts";
import { groupBacklogs } from "./backlog.ts";
import { type ChangeCommit, commitBatch, type CommitEntry, type CommitResult } from "./commit.ts";
import { ChangeTracker, type EventSelection, tracksChanges } from "./change_tracker.ts";
import { reconcileCursor } from "./cursor_reconcile.ts";
import { CursorMovedError, LeaseLostError, viaRedis } from "./follower_errors.ts";
import { MailboxLease } from "./lease.ts";
import type { MailboxReport } from "./mailbox_report.ts";
import type {
  ChangePublisher,
  Position,
  PublishBatch,
  Publisher,
  PublishingMode,
  StartPoint,
} from "./publisher.ts";
import { trimStream } from "./trim.ts";

/** Tuning of a {@link RedisPublisher} (durations in ms). */
export interface RedisPublisherSettings {
  /** The stream (`REDIS_STREAM_NAME`). */
  readonly stream: string;
  /** Retention target for trimming (`REDIS_MAX_STREAM_LENGTH`). */
  readonly maxStreamLength: number;
  /** Unprocessed entries above which publishing pauses (`STREAM_BACKLOG_LIMIT`). */
  readonly backlogLimit: number;
  /** Recheck interval while paused for backlog (the producer uses 2 s). */
  readonly backlogCheckMs: number;
  /** Mailbox lease TTL (at least 1000). */
  readonly leaseTtlMs: number;
  /** `STREAM_PARTITIONS`; a mailbox writes to its partition's stream. Default 1. */
  readonly partitions?: number;
  /** `REDIS_WAIT_REPLICAS` and its timeout; default: no WAIT. */
  readonly replicas?: { readonly count: number; readonly timeoutMs: number };
  /** Change events (`--events`); absent or all false: new mail only. */
  readonly events?: EventSelection;
  /** Without CONDSTORE, the newest known messages whose flags are read again per round (`EVENTS_RESCAN_LIMIT`). */
  readonly rescanLimit?: number;
}

/** What a {@link RedisPublisher} works with. */
export interface RedisPublisherOptions {
  readonly redis: RedisClient;
  readonly ref: MailboxRef;
  readonly report: MailboxReport;
  readonly logger: Logger;
  readonly settings: RedisPublisherSettings;
}

/** While paused for backlog, IMAP is pinged this often so the connection stays open. */
const PAUSED_PING_MS = 60_000;

/** Commits to Redis; see the module documentation. */
export class RedisPublisher implements Publisher {
  readonly lease: MailboxLease;
  readonly changes: ChangePublisher | undefined;
  readonly #o: RedisPublisherOptions;
  /** The stream of the mailbox's partition. */
  readonly #stream: string;
  /** Backlog at the last check, minus what this process had published by then. */
  #backlog: number | undefined;
  #chores: Promise<void> = Promise.resolve();

  constructor(options: RedisPublisherOptions) {
    this.#o = options;
    this.#stream = partitionStream(options.settings.stream, options.ref.partition);
    this.lease = new MailboxLease(options.redis, options.ref, options.settings.leaseTtlMs);
    const { events, rescanLimit } = options.settings;
    this.changes = tracksChanges(events)
      ? {
        events,
        rescanLimit: rescanLimit ?? 10_000,
        tracker: new ChangeTracker(options.redis, options.ref),
        logger: options.logger,
        publishChanges: (position, entries, mark) =>
          this.#commit(position, position.lastUid, [], entries, mark),
      }
      : undefined;
  }

  async prepare(uidValidity: number, start: StartPoint): Promise<Position> {
    const { redis, ref, report, logger, settings } = this.#o;
    const tracker = this.changes?.tracker;
    for (let tries = 0;; tries++) {
      if (tracker) await viaRedis("read change state", () => tracker.load());
      const stored = await viaRedis("GET cursor", () => readCursorPosition(redis, ref));
      const plan = await reconcileCursor(stored, uidValidity, { ref, start, logger });
      if (plan.kind === "resume") return report.moved(plan.position);
      // After a UIDVALIDITY reset the old UIDs' flag state means nothing: dropped, no deletions.
      const changes = tracker && plan.reset ? tracker.resetCommit() : undefined;
      const result = await viaRedis("commit", () =>
        commitBatch(redis, {
          stream: this.#stream,
          ref,
          leaseToken: this.lease.token,
          replicas: settings.replicas,
          expected: plan.expected,
          uidValidity,
          lastUid: plan.position.lastUid,
          entries: [],
          reset: plan.reset,
          changes,
        })).finally(() => tracker?.invalidate());
      if (result.status === "lease_lost") throw new LeaseLostError();
      if (result.status === "ok") {
        if (plan.reset) report.notify((o) => o.mailboxReset?.(ref));
        return report.moved(plan.position);
      }
      if (tries > 5) throw new CursorMovedError();
    }
  }

  async publish(position: Position, batch: PublishBatch, bytes: number): Promise<Position> {
    const next = await this.#commit(position, batch.lastUid, batch.entries);
    this.afterCommit(batch.entries, bytes);
    return next;
  }

  /**
   * After a committed batch (this publisher's, or the history backfill's):
   * parse errors are reported, downloaded bytes counted, the stream trimmed.
   */
  afterCommit(entries: readonly CommitEntry[], bytes: number): void {
    const { ref, report, logger } = this.#o;
    const parseErrors = entries.filter((e) => e.payload.parse_error !== undefined).length;
    for (let i = 0; i < parseErrors; i++) report.notify((o) => o.parseError?.(ref));
    if (parseErrors > 0) logger.warn("messages published with parse_error", { count: parseErrors });
    this.#housekeeping(bytes);
  }

  recordPoll(position: Position): Promise<Position> {
    return this.#commit(position, position.lastUid, []);
  }

  /**
   * The atomic commit; throws on a lost lease or a cursor moved by someone
   * else. With change tracking, the emails become known with their flags, and
   * `changeEntries` (with `mark`) are the change events to write.
   */
  async #commit(
    position: Position,
    lastUid: number,
    entries: readonly CommitEntry[],
    changeEntries?: readonly (readonly string[])[],
    mark?: string | null,
  ): Promise<Position> {
    const { redis, ref, report, logger, settings } = this.#o;
    const tracker = this.changes?.tracker;
    let changes: ChangeCommit | undefined;
    if (tracker) {
      if (changeEntries === undefined) {
        await viaRedis("read change state", () => tracker.ensureLoaded());
      }
      changes = changeEntries === undefined
        ? tracker.emailCommit(entries)
        : tracker.changeCommit(changeEntries, mark ?? null);
    }
    let result: CommitResult;
    try {
      result = await viaRedis("commit", () =>
        commitBatch(redis, {
          stream: this.#stream,
          ref,
          leaseToken: this.lease.token,
          replicas: settings.replicas,
          expected: position,
          uidValidity: position.uidValidity,
          lastUid,
          entries,
          changes,
        }));
    } catch (error) {
      if (changes) tracker?.settled(changes, false);
      throw error;
    }
    if (changes) tracker?.settled(changes, result.status === "ok");
    if (result.status === "lease_lost") throw new LeaseLostError();
    if (result.status === "cursor_moved") throw new CursorMovedError();
    for (const type of ["message_updated", "message_deleted"] as const) {
      const count = (changeEntries ?? []).filter((fields) => fields[1] === type).length;
      if (count > 0) report.notify((o) => o.changesPublished?.(ref, type, count));
    }
    if (entries.length > 0) {
      report.status.published += result.published;
      report.status.skipped += result.skipped;
      report.notify((o) => o.published?.(ref, result.published, result.skipped));
      logger.debug("batch committed", {
        published: result.published,
        skipped: result.skipped,
        last_uid: lastUid,
      });
    }
    return report.moved({ uidValidity: position.uidValidity, lastUid }, result.total);
  }

  /**
   * Best-effort housekeeping after a commit, off the critical path: bandwidth
   * accounting and trimming run in the background, one after the other.
   */
  #housekeeping(bytes: number): void {
    const { redis, ref, logger, settings } = this.#o;
    this.#chores = this.#chores.then(async () => {
      const key = bandwidthKey(ref.account, bandwidthHour(Date.now()), ref.partition);
      await redis.multi().incrby(key, bytes).expire(key, 25 * 3600).exec();
      await trimStream(redis, this.#stream, { maxLength: settings.maxStreamLength });
    }).catch((error) => {
      logger.debug("housekeeping after commit failed", { error: describeError(error) });
    });
  }

  /** Pauses while the workers' backlog is above the limit; pings IMAP meanwhile. */
  async waitForRoom(keepAlive: () => Promise<void>, signal: AbortSignal): Promise<void> {
    const { redis, ref, report, logger, settings } = this.#o;
    const { status } = report;
    // The backlog grows only by what this producer publishes: skip the check while even
    // the worst case since the last one stays well below the limit.
    const limit = settings.backlogLimit;
    if (this.#backlog !== undefined && this.#backlog + status.published <= limit * 0.8) return;
    let lastPing = Date.now();
    while (!signal.aborted) {
      const groups = await viaRedis("XINFO GROUPS", () => groupBacklogs(redis, this.#stream));
      const backlog = Math.max(0, ...groups.map((g) => g.backlog));
      this.#backlog = backlog - status.published;
      if (backlog <= limit) break;
      // The groups holding the producer back: a leftover group nobody reads shows up here.
      const heldBy = groups.filter((g) => g.backlog > limit).map((g) => g.name);
      const changed = heldBy.join("\n") !== status.backlogHeldBy.join("\n");
      status.backlogHeldBy = heldBy;
      if (!status.backlogPaused || changed) {
        if (!status.backlogPaused) report.notify((o) => o.backlogPaused?.(ref, true));
        status.backlogPaused = true;
        logger.warn(
          `stream backlog above STREAM_BACKLOG_LIMIT: pausing fetch until group(s) ${
            heldBy.join(", ")
          } catch up (start their workers, or ingest group delete --group NAME --yes for a ` +
            `group nobody reads)`,
          { backlog, limit, groups: heldBy },
        );
      }
      await sleep(settings.backlogCheckMs, signal).catch(() => {});
      if (Date.now() - lastPing > PAUSED_PING_MS && !signal.aborted) {
        await keepAlive();
        lastPing = Date.now();
      }
    }
    if (status.backlogPaused) {
      status.backlogPaused = false;
      status.backlogHeldBy = [];
      report.notify((o) => o.backlogPaused?.(ref, false));
      logger.info("stream backlog below the limit: fetching again");
    }
  }
}

/** The Redis mode, whose publishers are {@link RedisPublisher}s. */
export interface RedisMode extends PublishingMode {
  publisher(ref: MailboxRef, report: MailboxReport, logger: Logger): RedisPublisher;
}

/**
 * The Redis mode: the stream layout is checked (`STREAM_PARTITIONS`), and
 * the consumer group `group` is created on every partition's stream before
 * the first entry exists (so trimming protects it even if no worker ever ran), then one
 * {@link RedisPublisher} per mailbox.
 */
export function redisMode(
  redis: RedisClient,
  group: string,
  settings: RedisPublisherSettings,
): RedisMode {
  const partitions = settings.partitions ?? 1;
  return {
    prepareStream: async () => {
      await checkStreamLayout(redis, settings.stream, partitions);
      for (const stream of partitionStreams(settings.stream, partitions)) {
        await ensureGroup(redis, stream, group);
      }
    },
    publisher: (ref, report, logger) =>
      new RedisPublisher({ redis, ref, report, logger, settings }),
  };
}
