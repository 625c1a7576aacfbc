/**
 * How a producer publishes (Redis, or a dry run), and what each mailbox's
 * supervisor gets from it: its publisher and, in Redis mode, its history
 * backfill lane.
 *
 * @module
 */

import { numericDefault } from "../config/variables.ts";
import type { Logger } from "../log/logger.ts";
import { BackfillLane } from "./backfill_lane.ts";
import { BackfillScheduler } from "./backfill_scheduler.ts";
import { DownloadBudget } from "./download_budget.ts";
import { dryRunMode } from "./dry_run_publisher.ts";
import type { SupervisorSettings } from "./mailbox_supervisor.ts";
import type { MailboxReport } from "./mailbox_report.ts";
import type { Config } from "../config/config.ts";
import type { RedisClient } from "../redis/client.ts";
import type { EmailPayload } from "../stream/entry.ts";
import type { Publisher, PublishingMode } from "./publisher.ts";
import { redisMode } from "./redis_publisher.ts";
import { partitionOf, partitionStream } from "../redis/partitions.ts";
import { GMAIL_MAX_CONNECTIONS } from "../imap/gmail_limits.ts";

/** The producer options a mode is built from (see `ProducerOptions`). */
export interface ModeOptions {
  readonly config: Config;
  readonly redis: RedisClient;
  readonly account: string;
  readonly dryRun?: (payload: EmailPayload) => void;
  readonly leaseTtlMs?: number;
  readonly backfillScheduler?: BackfillScheduler;
}

/** How this producer publishes, and what each mailbox's supervisor gets from it. */
export interface ProducerMode extends Pick<PublishingMode, "prepareStream"> {
  /** A mailbox's publisher and, in Redis mode, its history lane. */
  follower(
    report: MailboxReport,
    logger: Logger,
  ): { publisher: Publisher; backfill?: BackfillLane };
}

/**
 * How this producer publishes: the one place where a dry run is told apart.
 * `mailboxes` is how many it follows, each on a connection of its own.
 */
export function publishingMode(
  options: ModeOptions,
  s: SupervisorSettings,
  mailboxes: number,
): ProducerMode {
  const { config, redis } = options;
  if (options.dryRun) {
    const mode = dryRunMode(redis, options.dryRun);
    return {
      prepareStream: mode.prepareStream,
      follower: (report, logger) => ({ publisher: mode.publisher(report.ref, report, logger) }),
    };
  }
  const stream = config.redis.streamName;
  const mode = redisMode(redis, config.worker.group, {
    stream,
    maxStreamLength: config.redis.maxStreamLength,
    backlogLimit: config.producer.backlogLimit,
    backlogCheckMs: 2_000,
    leaseTtlMs: options.leaseTtlMs ?? numericDefault("PRODUCER_LEASE_TTL_SECONDS") * 1000,
    partitions: config.redis.partitions,
    replicas: { count: config.redis.waitReplicas, timeoutMs: config.redis.waitTimeoutMs },
    events: config.producer.events,
    rescanLimit: config.producer.eventsRescanLimit,
  });
  const lanes = accountLanes(options, s, mailboxes);
  return {
    prepareStream: mode.prepareStream,
    follower: (report, logger) => {
      const publisher = mode.publisher(report.ref, report, logger);
      const backfill = new BackfillLane({
        ...lanes,
        redis,
        publisher,
        stream: partitionStream(stream, report.ref.partition),
        report,
        logger,
        batchSize: s.batchSize,
        limits: s.limits,
        retry: s.retry,
        pingTimeoutMs: s.pingTimeoutMs,
      });
      return { publisher, backfill };
    },
  };
}

/** What the history lanes of one account's mailboxes share. */
function accountLanes(options: ModeOptions, s: SupervisorSettings, mailboxes: number) {
  const { config, redis } = options;
  return {
    scheduler: options.backfillScheduler ?? new BackfillScheduler(),
    // One history connection for the whole account, on top of one per mailbox, within Gmail's
    // limit: the lanes of its new mailboxes take turns holding it (fairly, as for chunks).
    historyConnection: new BackfillScheduler({ slots: 1 }),
    budget: new DownloadBudget({
      redis,
      account: options.account,
      partition: partitionOf(options.account, config.redis.partitions),
      dailyBytes: config.producer.dailyDownloadMb * 1_000_000,
    }),
    // --once syncs everything and ends: the live path fetches history fastest then. So it
    // does when every connection Gmail allows the account is a mailbox's.
    planNew: !s.once && mailboxes < GMAIL_MAX_CONNECTIONS,
  };
}
