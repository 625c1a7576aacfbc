/**
 * The producer: follows one account's mailboxes over IMAP and commits every
 * new message to the Redis Stream exactly once. One {@link MailboxSupervisor}
 * (one IMAP connection) per mailbox, so a failing mailbox never stops the
 * others; each publishes through the mode picked once here (RedisClient, or a dry
 * run that writes nothing).
 *
 * @example
 * ```ts
 * const producer = startProducer({ config, account, credentials, redis, logger, signal });
 * console.log(producer.status());
 * const result = await producer.done;
 * ```
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import type { Config } from "../config/config.ts";
import type { ConnectionActivity } from "../imap/connection_watchdog.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import type { Logger } from "../log/logger.ts";
import { accountLabeler } from "../metrics/account_label.ts";
import type { ProducerObserver } from "../observe/events.ts";
import type { EmailPayload } from "../stream/entry.ts";
import { preflightCredentials } from "./credentials_preflight.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./failure_policy.ts";
import {
  type FollowerOutcome,
  MailboxSupervisor,
  type SupervisorSettings,
} from "./mailbox_supervisor.ts";
import { MailboxReport } from "./mailbox_report.ts";
import { initialStatus, type MailboxStatus } from "./mailbox_status.ts";
import { type MailboxStatusView, mailboxStatusView } from "./mailbox_status_view.ts";
import { mailboxRef } from "../redis/partitions.ts";
import type { BackfillScheduler } from "./backfill_scheduler.ts";
import { type ProducerMode, publishingMode } from "./producer_mode.ts";
import { prepareStreamUntilReady } from "./stream_preparation.ts";
import type { StartPosition } from "./start_position.ts";
import { type MailboxCheck, mailboxCheck } from "./readiness.ts";

/** Options of {@link startProducer}. */
export interface ProducerOptions {
  /** Uses `imap`, `producer`, `redis` and `worker.group`. */
  readonly config: Config;
  /** The account (IMAP user) whose mailboxes are followed. */
  readonly account: string;
  /** Mailboxes to follow. Default `config.imap.mailboxes`. */
  readonly mailboxes?: readonly string[];
  /** Supplies IMAP credentials (password or refreshed OAuth2 token). */
  readonly credentials: CredentialsProvider;
  /** A connected client; the caller closes it after `done`. */
  readonly redis: RedisClient;
  /** Structured logger (never receives addresses or content). */
  readonly logger: Logger;
  /** Metrics, status, progress bars. Hooks must not throw (failures are logged and ignored). */
  readonly observer?: ProducerObserver;
  /** Stops the producer: fetching stops, the lease is released, connections close. */
  readonly signal: AbortSignal;
  /** Sync every mailbox until caught up, then finish. Default false. */
  readonly once?: boolean;
  /** Dry run: each payload goes here instead of Redis, and nothing at all is written. */
  readonly dryRun?: (payload: EmailPayload) => void;
  /** Use IMAP IDLE when offered. Default true. */
  readonly idle?: boolean;
  /** What a mailbox without state ingests first. Default all. */
  readonly start?: StartPosition;
  /** Lease TTL in ms. Default 30 s. */
  readonly leaseTtlMs?: number;
  /** Longest IDLE before a NOOP health check and a new IDLE. Default `IMAP_IDLE_CHECK_SECONDS`. */
  readonly idleHeartbeatMs?: number;
  /** Time a NOOP may take before the connection is treated as dead. Default 15 s (at most the command timeout). */
  readonly pingTimeoutMs?: number;
  /** Backoff bounds. */
  readonly retry?: Partial<RetryPolicy>;
  /**
   * While an account is parked (`needs_reauth`): how often its credentials are
   * read again, to resume after `ingest auth setup` without a restart. Default 60 s.
   */
  readonly reauthRecheckMs?: number;
  /** Longest wait for followers on shutdown before connections are cut. Default 7 s. */
  readonly shutdownGraceMs?: number;
  /**
   * Orders the history backfill of new mailboxes: one per process, shared by
   * every producer in it (a fleet), so backfills take turns and live mail goes
   * first. Default: one of this producer's own.
   */
  readonly backfillScheduler?: BackfillScheduler;
}

/** The producer's status. */
export interface ProducerStatus {
  /** The account's label (`ACCOUNT_ALIAS` or a hash, as in metrics), never its address. */
  readonly account: string;
  /** One entry per followed mailbox (accounts by label). */
  readonly mailboxes: readonly MailboxStatus[];
  /** The snake_case view that `/status` serves (what `JSON.stringify` prints). */
  toJSON(): ProducerStatusView;
}

/** The producer's status as `/status` serves it (snake_case). */
export interface ProducerStatusView {
  /** The account's label. */
  readonly account: string;
  /** One view per followed mailbox. */
  readonly mailboxes: readonly MailboxStatusView[];
}

/**
 * Readiness for `/ready`: every mailbox connected and not stuck, standing by,
 * or (with --once) done.
 */
export interface ProducerReadiness {
  /** Whether every mailbox is healthy. */
  readonly ready: boolean;
  /** Per-mailbox state and verdict (with the reason when not ok). */
  readonly checks: readonly MailboxCheck[];
}

/** How the producer finished. */
export interface ProducerResult {
  /** Every mailbox ended well (caught up with --once, or stopped on request). */
  readonly ok: boolean;
  /** How each mailbox ended, by path. */
  readonly outcomes: Readonly<Record<string, FollowerOutcome>>;
  /** Why each `failed` or `parked` mailbox ended (its last error, which names the fix), by path. */
  readonly problems: Readonly<Record<string, string>>;
}

/** A running producer. */
export interface ProducerHandle {
  /** Current per-mailbox status; serialises to its snake_case view. */
  status(): ProducerStatus;
  /** Readiness for `/ready`. */
  ready(): ProducerReadiness;
  /** Resolves when every mailbox follower has ended. */
  readonly done: Promise<ProducerResult>;
}

/** A copy of `status` with the account address replaced by its label, messages included. */
export function labelledStatus(
  status: MailboxStatus,
  account: string,
  label: string,
): MailboxStatus {
  const copy = structuredClone(status);
  const address = new RegExp(account.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
  const hide = (text: string) => text.replace(address, label);
  return {
    ...copy,
    account: label,
    lastError: copy.lastError && { ...copy.lastError, message: hide(copy.lastError.message) },
  };
}

/** Starts following the mailboxes; see {@link ProducerHandle}. */
export function startProducer(options: ProducerOptions): ProducerHandle {
  const { config, account } = options;
  const mailboxes = [...new Set(options.mailboxes ?? config.imap.mailboxes)];
  const label = accountLabeler({ accountAlias: config.observability.accountAlias, account })(
    account,
  );
  // Logs carry the account's label, never its address.
  const logger = options.logger.child({ component: "producer", account: label });
  const statuses = mailboxes.map((mailbox) => initialStatus(account, mailbox));
  const settings = supervisorSettings(options);
  const mode = publishingMode(options, settings, mailboxes.length);
  const followers = mailboxes.map((mailbox, i) => {
    const ref = mailboxRef(account, mailbox, config.redis.partitions);
    const partition = ref.partition === undefined ? {} : { partition: ref.partition };
    const mailboxLogger = logger.child({ mailbox, ...partition });
    const report = new MailboxReport({
      ref,
      status: statuses[i]!,
      observer: options.observer ?? {},
      logger: mailboxLogger,
    });
    return new MailboxSupervisor({
      server: { host: config.imap.host, port: config.imap.port, secure: config.imap.tls },
      credentials: options.credentials,
      logger: mailboxLogger,
      report,
      ...mode.follower(report, mailboxLogger),
    }, settings);
  });
  const bounds = {
    commandTimeoutMs: settings.commandTimeoutMs,
    idleCheckMs: settings.idleHeartbeatMs,
    once: settings.once,
  };
  return {
    // `/status` is copied to dashboards and tickets: the account appears by its label only.
    status: () => {
      const view = {
        account: label,
        mailboxes: statuses.map((s, i) => ({
          ...labelledStatus(s, account, label),
          connection: connectionView(followers[i]!.activity()),
        })),
      };
      return {
        ...view,
        toJSON: () => ({ account: label, mailboxes: view.mailboxes.map(mailboxStatusView) }),
      };
    },
    ready: () => {
      const now = Date.now();
      const checks = statuses.map((s, i) => mailboxCheck(s, followers[i]!.activity(), bounds, now));
      return { ready: checks.every((c) => c.ok), checks };
    },
    done: runFollowers(options, { mode, followers, statuses, logger }),
  };
}

/** What {@link runFollowers} runs. */
interface Followers {
  readonly mode: ProducerMode;
  readonly followers: readonly MailboxSupervisor[];
  readonly statuses: readonly MailboxStatus[];
  readonly logger: Logger;
}

/** Readies the stream, runs every supervisor to its end, cuts connections after the grace period. */
async function runFollowers(options: ProducerOptions, run: Followers): Promise<ProducerResult> {
  const { signal } = options;
  const { followers, statuses, logger } = run;
  const mailboxes = statuses.map((s) => s.mailbox);
  // A token file others can read (or a wrong key) stops the start with its fix.
  await preflightCredentials(options.credentials);
  const prepared = await prepareStreamUntilReady(run.mode.prepareStream, {
    once: options.once ?? false,
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    logger,
    signal,
    onRefused: (kind) => {
      for (const s of statuses) {
        s.redisRefusing = kind === null ? null : (s.redisRefusing ?? {
          kind,
          since: new Date().toISOString(),
        });
      }
    },
  });
  if (!prepared) return stoppedBeforeStart(mailboxes, logger);
  logger.info("producer started", {
    mailboxes: mailboxes.length,
    once: options.once ?? false,
    dry_run: options.dryRun !== undefined,
  });
  const shutdown = new AbortController();
  const cutOff = () => {
    // Followers get a grace period to finish their batch; then connections are cut.
    const timer = setTimeout(() => {
      logger.warn("shutdown grace period over: closing IMAP connections");
      for (const follower of followers) follower.forceClose();
    }, options.shutdownGraceMs ?? 7_000);
    shutdown.signal.addEventListener("abort", () => clearTimeout(timer));
  };
  signal.addEventListener("abort", cutOff, { once: true });
  try {
    const outcomes = await Promise.all(followers.map((follower) => follower.run(signal)));
    const byMailbox = Object.fromEntries(mailboxes.map((m, i) => [m, outcomes[i]!]));
    const ok = outcomes.every((o) => o === "caught_up" || o === "stopped");
    logger.info("producer stopped", { outcomes: byMailbox });
    const problems = Object.fromEntries(
      statuses.flatMap((s, i) =>
        outcomes[i] === "failed" || outcomes[i] === "parked"
          ? [[s.mailbox, s.lastError?.message ?? outcomes[i]!]]
          : []
      ),
    );
    return { ok, outcomes: byMailbox, problems };
  } finally {
    signal.removeEventListener("abort", cutOff);
    shutdown.abort();
  }
}

/** Stopped on request while Redis still refused to ready the stream: nothing ran. */
function stoppedBeforeStart(mailboxes: readonly string[], logger: Logger): ProducerResult {
  const outcomes = Object.fromEntries(mailboxes.map((m) => [m, "stopped" as const]));
  logger.info("producer stopped", { outcomes });
  return { ok: true, outcomes, problems: {} };
}

/** The supervisors' tuning, from the config and the options' defaults. */
function supervisorSettings(options: ProducerOptions): SupervisorSettings {
  const { config } = options;
  const commandTimeoutMs = config.imap.commandTimeoutSeconds * 1000;
  return {
    batchSize: config.producer.batchSize,
    limits: {
      bodyTextChars: config.producer.bodyTextChars,
      bodyHtmlChars: config.producer.bodyHtmlChars,
      maxMessageBytes: config.producer.maxMessageBytes,
    },
    pollIntervalMs: config.producer.pollIntervalSeconds * 1000,
    idleHeartbeatMs: options.idleHeartbeatMs ?? config.imap.idleCheckSeconds * 1000,
    pingTimeoutMs: options.pingTimeoutMs ?? Math.min(15_000, commandTimeoutMs),
    commandTimeoutMs,
    idle: options.idle ?? true,
    once: options.once ?? false,
    start: options.start ?? { kind: "all" },
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    onceMaxAttempts: 5,
    reauthRecheckMs: options.reauthRecheckMs ?? 60_000,
  };
}

/** The connection's activity as `/status` shows it (ISO times). */
function connectionView(activity: ConnectionActivity | undefined): MailboxStatus["connection"] {
  if (activity === undefined) return null;
  return {
    lastHeardAt: new Date(activity.lastHeardAt).toISOString(),
    outstanding: activity.outstanding === undefined ? null : {
      command: activity.outstanding.command,
      since: new Date(activity.outstanding.since).toISOString(),
    },
  };
}
