/**
 * What `ingest produce` does once its flags are parsed: configuration,
 * observers (progress, health server), the producer or the fleet, and the
 * exit code. Loaded by produce.ts only when the command runs.
 *
 * @module
 */

import { credentialsFor } from "../../src/auth/token_provider.ts";
import { configuredTokenStore } from "../../src/auth/token_store_choice.ts";
import type { Config } from "../../src/config/config.ts";
import { UsageError } from "../../src/errors.ts";
import type { Logger } from "../../src/log/logger.ts";
import { combineObservers, type ProducerObserver } from "../../src/observe/events.ts";
import { type ProducerHandle, startProducer } from "../../src/producer/producer.ts";
import { createProgressRenderer } from "../../src/progress/progress_renderer.ts";
import { parseStartPosition, type StartPosition } from "../../src/producer/start_position.ts";
import type { App } from "../app.ts";
import { wantsHealthServer } from "../../src/health/health_wanted.ts";
import { flagSettings } from "../setting_option.ts";

/** Parsed options of `ingest produce`. */
export interface ProduceOptions {
  account?: string;
  mailbox?: string[];
  batchSize?: string;
  pollInterval?: string;
  maxMessageBytes?: string;
  events?: string;
  dryRun?: boolean;
  once?: boolean;
  idle?: boolean;
  start: string;
  leaseTtl?: string;
  healthPort?: string;
  healthHost?: string;
  fleet?: boolean;
  maxAccounts?: string;
}

/**
 * Extra observers of a running producer (metrics, progress bars, status for
 * the health server). Observability features plug in here; each receives the
 * producer handle once it exists.
 */
export type ProduceExtension = (
  context: { app: App; config: Config; logger: Logger; options: ProduceOptions },
) => ProduceExtensionInstance | Promise<ProduceExtensionInstance>;

/** What an extension contributes. */
export interface ProduceExtensionInstance {
  readonly observer?: ProducerObserver;
  /** Called with the running producer (e.g. to serve `/status` and `/ready`). */
  started?(producer: ProducerHandle): void;
  /** Called after the producer finished; release resources here. */
  stopped?(): Promise<void> | void;
}

/** Extensions applied to every `ingest produce` run (progress renderer, health server, ...). */
export const PRODUCE_EXTENSIONS: ProduceExtension[] = [
  produceProgressExtension,
  produceHealthExtension,
];

/**
 * Backfill progress: bars per mailbox on a terminal (log lines scroll above
 * them), a log line every 10 s otherwise; once a live run caught up, a "live"
 * line per mailbox. Dry runs print payloads on stdout and stay quiet here.
 */
function produceProgressExtension(
  { app, logger, options }: Parameters<ProduceExtension>[0],
): ProduceExtensionInstance {
  if (options.dryRun) return {};
  const terminal = app.runtime.stderrIsTerminal;
  const renderer = createProgressRenderer({
    terminal,
    write: (text) => app.runtime.stderr(text),
    area: terminal ? app.statusArea() : undefined,
    live: !options.once,
    log: (message, fields) => logger.info(message, { component: "progress", ...fields }),
  });
  return {
    observer: renderer,
    stopped: () => renderer.finish({ stopped: app.runtime.signal.aborted }),
  };
}

/**
 * `ingest produce`'s health server (src/health/command_health.ts), started
 * before the producer so a busy port stops the command before any IMAP work.
 */
async function produceHealthExtension(
  { app, config, logger, options }: Parameters<ProduceExtension>[0],
): Promise<ProduceExtensionInstance> {
  const oneShot = Boolean(options.once || options.dryRun);
  if (!wantsHealthServer(config, { oneShot, portFlagGiven: options.healthPort !== undefined })) {
    return {};
  }
  // Prometheus and the HTTP server load only when the server is wanted (not for --once).
  const { startProducerHealth } = await import("../../src/health/command_health.ts");
  const redis = await app.redis(config, "ingest:metrics");
  const health = startProducerHealth({ config, redis, logger, signal: app.runtime.signal });
  return { observer: health.observer, started: health.attach, stopped: health.shutdown };
}

/** The settings `ingest produce` reads from its flags. */
const PRODUCE_SETTINGS = [
  "BATCH_SIZE",
  "POLL_INTERVAL_SECONDS",
  "MAX_MESSAGE_BYTES",
  "EVENTS",
  "PRODUCER_LEASE_TTL_SECONDS",
  "FLEET_MAX_ACCOUNTS",
  "HEALTH_PORT",
  "HEALTH_HOST",
] as const;

/** Runs `ingest produce` with its parsed `options`. */
export async function runProduce(app: App, options: ProduceOptions): Promise<void> {
  const problems: string[] = [];
  let start: StartPosition = { kind: "all" };
  try {
    start = parseStartPosition(options.start);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (options.fleet) {
    // The fleet's modules load only for --fleet.
    const { runFleetProduce } = await import("./produce_fleet.ts");
    return await runFleetProduce(app, options, PRODUCE_SETTINGS, start, problems);
  }
  const mailboxes = options.mailbox?.map((m) => m.trim()).filter((m) => m !== "");
  if (options.mailbox && mailboxes?.length !== options.mailbox.length) {
    problems.push("--mailbox must not be empty");
  }
  // Flag and configuration problems are reported together: one run names them all.
  const config = await app.configCollecting(
    {
      IMAP_USER: options.account,
      ...flagSettings(options, PRODUCE_SETTINGS),
    },
    problems,
    [{ name: "IMAP_USER", problem: "--account (or IMAP_USER) is required" }],
  );
  const account = config?.imap.user;
  if (problems.length > 0 || config === undefined) {
    throw new UsageError(`Cannot start the producer:\n  - ${problems.join("\n  - ")}`);
  }
  const logger = app.logger(config);
  if (options.dryRun && (config.producer.events.updated || config.producer.events.deleted)) {
    logger.warn("--dry-run prints new mail only: the updated and deleted events are not tracked");
  }
  const extensions = await Promise.all(
    PRODUCE_EXTENSIONS.map((extend) => extend({ app, config, logger, options })),
  );
  const observers = extensions.flatMap((e) => (e.observer ? [e.observer] : []));
  const redis = await app.redis(
    config,
    options.dryRun ? "ingest:produce:dry-run" : "ingest:producer",
  );
  const producer = startProducer({
    config,
    account: account!,
    mailboxes,
    credentials: credentialsFor(
      config,
      account!,
      logger,
      combineObservers(...observers),
      configuredTokenStore(config, redis),
    ),
    redis,
    logger,
    observer: combineObservers<ProducerObserver>(...observers),
    signal: app.runtime.signal,
    once: options.once,
    idle: options.idle,
    start,
    leaseTtlMs: config.producer.leaseTtlSeconds * 1000,
    dryRun: options.dryRun ? (payload) => app.print(JSON.stringify(payload) + "\n") : undefined,
  });
  for (const extension of extensions) extension.started?.(producer);
  try {
    const result = await producer.done;
    if (!result.ok) app.exitCode = 1;
    for (const [mailbox, problem] of Object.entries(result.problems)) {
      app.runtime.stderr(`error: mailbox ${mailbox} ${result.outcomes[mailbox]}: ${problem}\n`);
    }
  } finally {
    for (const extension of extensions) await extension.stopped?.();
  }
}
