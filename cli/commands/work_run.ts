/**
 * What `ingest work` does once its flags are parsed: configuration, sink,
 * health server, the partitioned worker and the exit code. Loaded by work.ts
 * only when the command runs.
 *
 * @module
 */

import type { Config } from "../../src/config/config.ts";
import { UsageError } from "../../src/errors.ts";
import { wantsHealthServer } from "../../src/health/health_wanted.ts";
import type { Logger } from "../../src/log/logger.ts";
import { combineObservers, type WorkerObserver } from "../../src/observe/events.ts";
import { openSink, parseSinkSpec, type SinkSpec } from "../../src/sinks/spec.ts";
import { startPartitionedWorker } from "../../src/worker/partition_readers.ts";
import type { WorkerHandle } from "../../src/worker/worker.ts";
import { streamPartitionsOf } from "../../src/stream/partition_set.ts";
import type { App } from "../app.ts";
import { ExitCode } from "../exit_codes.ts";
import { flagSettings } from "../setting_option.ts";

/** Parsed options of `ingest work`. */
export interface WorkOptions {
  group?: string;
  consumer?: string;
  concurrency?: string;
  readAhead?: string;
  sink?: string;
  drain?: boolean;
  shutdownTimeout?: string;
  visibilityTimeout?: string;
  consumerIdleTimeout?: string;
  maxAttempts?: string;
  healthPort?: string;
  healthHost?: string;
}

/**
 * Extra observers of a running worker (metrics, health server). Observability
 * features plug in here; each receives the worker handle once it exists.
 */
export type WorkExtension = (
  context: { app: App; config: Config; logger: Logger; options: WorkOptions; group: string },
) => WorkExtensionInstance | Promise<WorkExtensionInstance>;

/** What an extension contributes. */
export interface WorkExtensionInstance {
  readonly observer?: WorkerObserver;
  /** Called with the running worker (e.g. to serve its `status()` and `ready()`). */
  started?(worker: WorkerHandle): void;
  /** Called after the worker stopped; release resources here. */
  stopped?(): Promise<void> | void;
}

/** `ingest work`'s health server (src/health/command_health.ts). */
async function workHealthExtension(
  { app, config, logger, options, group }: Parameters<WorkExtension>[0],
): Promise<WorkExtensionInstance> {
  const run = { oneShot: Boolean(options.drain), portFlagGiven: options.healthPort !== undefined };
  if (!wantsHealthServer(config, run)) return {};
  // Prometheus and the HTTP server load only when the server is wanted (not for --drain).
  const { startWorkerHealth } = await import("../../src/health/command_health.ts");
  const redis = await app.redis(config, "ingest:metrics");
  const health = startWorkerHealth({ config, redis, logger, group, signal: app.runtime.signal });
  return { observer: health.observer, started: health.attach, stopped: health.shutdown };
}

/** The settings `ingest work` reads from its flags. */
const WORK_SETTINGS = [
  "WORKER_GROUP",
  "WORKER_SINK",
  "WORKER_CONCURRENCY",
  "WORKER_READ_AHEAD",
  "WORKER_MAX_ATTEMPTS",
  "WORKER_SHUTDOWN_TIMEOUT_SECONDS",
  "WORKER_VISIBILITY_TIMEOUT_SECONDS",
  "WORKER_CONSUMER_IDLE_TIMEOUT_SECONDS",
  "HEALTH_PORT",
  "HEALTH_HOST",
] as const;

/** The problem reported when neither `--sink` nor `WORKER_SINK` names a sink. */
const NO_SINK = "a sink is required: --sink SPEC or WORKER_SINK " +
  "(e.g. --sink file:emails.jsonl, --sink webhook:https://crm.internal/hook); " +
  "the worker acknowledges every entry it delivers, for the whole group. " +
  "To look at entries without consuming them: ingest stream peek";

/** Extensions applied to every `ingest work` run. */
export const WORK_EXTENSIONS: WorkExtension[] = [workHealthExtension];

/** Runs the command with its parsed options. */
export async function runWork(app: App, options: WorkOptions): Promise<void> {
  const problems: string[] = [];
  const consumer = options.consumer?.trim() ?? `${Deno.hostname()}-${Deno.pid}`;
  if (consumer === "") problems.push("--consumer must not be empty");
  // Flag and configuration problems are reported together: one run names them all.
  const config = await app.configCollecting(flagSettings(options, WORK_SETTINGS), problems);
  let spec: SinkSpec | undefined;
  const raw = options.sink ?? config?.worker.sink;
  try {
    if (raw !== undefined) spec = parseSinkSpec(raw);
  } catch (error) {
    problems.push((error as Error).message);
  }
  // A worker acknowledges what it delivers: without a chosen sink it would consume the
  // shared group's entries to nowhere useful. `stream peek` is the read-only look.
  if (raw === undefined && config !== undefined) problems.push(NO_SINK);
  if (problems.length > 0 || config === undefined) {
    throw new UsageError(`Cannot start the worker:\n  - ${problems.join("\n  - ")}`);
  }
  const logger = app.logger(config);
  if (spec!.kind === "webhook" && config.worker.webhookSecret === undefined) {
    logger.warn("WEBHOOK_SECRET is not set: webhook bodies are sent without X-Ingest-Signature");
  }
  const sink = await openSink(spec!, {
    stdout: (text) => app.print(text),
    webhookSecret: config.worker.webhookSecret,
    env: app.runtime.env,
    execSinkEnv: config.worker.execSinkEnv,
    fileSinkPageCache: config.worker.fileSinkPageCache,
  });
  try {
    const group = config.worker.group;
    const extensions = await Promise.all(
      WORK_EXTENSIONS.map((extend) => extend({ app, config, logger, options, group })),
    );
    const observers = extensions.flatMap((e) => (e.observer ? [e.observer] : []));
    const redis = await app.redis(config, "ingest:worker");
    // One blocking connection per partition: a blocked XREADGROUP holds its connection.
    const blockingRedis = await Promise.all(
      streamPartitionsOf(config.redis).map((p, _, all) =>
        app.redis(config, all.length === 1 ? "ingest:worker:read" : `ingest:worker:read:${p.index}`)
      ),
    );
    const worker = startPartitionedWorker({
      redis,
      blockingRedis,
      config,
      sink,
      consumer,
      concurrency: config.worker.concurrency,
      readAhead: config.worker.readAhead,
      drain: options.drain,
      shutdownTimeoutMs: Math.round(config.worker.shutdownTimeoutSeconds * 1000),
      visibilityTimeoutMs: Math.round(config.worker.visibilityTimeoutSeconds * 1000),
      consumerIdleTimeoutMs: Math.round(config.worker.consumerIdleTimeoutSeconds * 1000),
      observer: combineObservers<WorkerObserver>(...observers),
      logger,
      signal: app.runtime.signal,
    });
    for (const extension of extensions) extension.started?.(worker);
    try {
      const summary = await worker.done;
      if (options.drain && summary.deadLettered > 0) {
        app.runtime.stderr(
          `${summary.deadLettered} entr${summary.deadLettered === 1 ? "y was" : "ies were"} ` +
            "dead-lettered during this run (exit 3): see ingest dlq list\n",
        );
        app.exitCode = ExitCode.DeadLettered;
      }
    } finally {
      for (const extension of extensions) await extension.stopped?.();
    }
  } finally {
    await sink.close();
  }
}
