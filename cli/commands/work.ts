/**
 * `ingest work`: read the stream through a consumer group and deliver each
 * entry to a sink, at least once, with retries and a dead-letter queue.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { Config } from "../../src/config/config.ts";
import { ConfigError, UsageError } from "../../src/errors.ts";
import type { Logger } from "../../src/log/logger.ts";
import { combineObservers, type WorkerObserver } from "../../src/observe/events.ts";
import { openSink, parseSinkSpec, type SinkSpec } from "../../src/sinks/spec.ts";
import { startWorker, type WorkerHandle } from "../../src/worker/worker.ts";
import type { App } from "../app.ts";
import { examples } from "./common.ts";
import { HEALTH_FLAG_HELP, healthSettings, workHealthExtension } from "./metrics.ts";

/** Parsed options of `ingest work`. */
export interface WorkOptions {
  group?: string;
  consumer?: string;
  concurrency?: string;
  sink?: string;
  drain?: boolean;
  shutdownTimeout: string;
  visibilityTimeout: string;
  consumerIdleTimeout: string;
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

/** Extensions applied to every `ingest work` run. */
export const WORK_EXTENSIONS: WorkExtension[] = [workHealthExtension];

/** Builds the `work` command. */
export function workCommand(app: App): Command {
  return new Command("work")
    .description(
      "Deliver stream entries to a sink through a consumer group, with retries and a DLQ",
    )
    .option("--group <name>", "consumer group (default: WORKER_GROUP or email_workers)")
    .option("--consumer <name>", "this consumer's name in the group (default: host name-pid)")
    .option("--concurrency <n>", "entries handled at once (default: WORKER_CONCURRENCY or 8)")
    .option(
      "--sink <spec>",
      "stdout, file:PATH, webhook:URL, exec:COMMAND or module:PATH (default: WORKER_SINK or stdout)",
    )
    .option("--drain", "exit 0 once nothing is new, pending or waiting for a retry")
    .option(
      "--shutdown-timeout <seconds>",
      "on SIGINT/SIGTERM, how long in-flight handlers may finish",
      "30",
    )
    .option(
      "--visibility-timeout <seconds>",
      "an entry pending this long on another consumer is taken over",
      "60",
    )
    .option(
      "--consumer-idle-timeout <seconds>",
      "consumers idle this long with nothing pending are removed from the group",
      "3600",
    )
    .option("--max-attempts <n>", "attempts before the DLQ (default: WORKER_MAX_ATTEMPTS or 5)")
    .option("--health-port <port>", HEALTH_FLAG_HELP.port)
    .option("--health-host <address>", HEALTH_FLAG_HELP.host)
    .addHelpText(
      "after",
      examples(
        "ingest work --sink file:/var/lib/ingest/emails.jsonl",
        "ingest work --sink webhook:https://crm.internal/hooks/email --concurrency 32",
        "ingest work --sink 'exec:jq -c .payload.subject >> subjects.txt'",
        "ingest work --sink module:./handler.ts --max-attempts 8",
        "ingest work --drain --sink file:out.jsonl",
      ) +
        "\nSinks and delivery guarantees: docs/DELIVERY.md. Stops gracefully on SIGINT/SIGTERM.\n" +
        "Exit codes: 0 stopped or drained, 1 runtime failure, 2 usage or configuration error.\n",
    )
    .action(async (options) => {
      await runWork(app, options);
    });
}

/** Seconds given on the command line → ms, or a problem message. */
function seconds(flag: string, raw: string, min: number, problems: string[]): number {
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value < min) {
    problems.push(`${flag} must be a number of seconds >= ${min}: current value is "${raw}"`);
    return 0;
  }
  return Math.round(value * 1000);
}

async function runWork(app: App, options: WorkOptions): Promise<void> {
  const problems: string[] = [];
  const shutdownTimeoutMs = seconds("--shutdown-timeout", options.shutdownTimeout, 0, problems);
  const visibilityTimeoutMs = seconds(
    "--visibility-timeout",
    options.visibilityTimeout,
    0.1,
    problems,
  );
  const consumerIdleTimeoutMs = seconds(
    "--consumer-idle-timeout",
    options.consumerIdleTimeout,
    1,
    problems,
  );
  const consumer = options.consumer?.trim() ?? `${Deno.hostname()}-${Deno.pid}`;
  if (consumer === "") problems.push("--consumer must not be empty");
  let config: Config | undefined;
  try {
    config = await app.config({
      WORKER_GROUP: options.group,
      WORKER_SINK: options.sink,
      WORKER_CONCURRENCY: options.concurrency,
      WORKER_MAX_ATTEMPTS: options.maxAttempts,
      ...healthSettings(options),
    });
  } catch (error) {
    // Report configuration and flag problems together, so one run names them all.
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  let spec: SinkSpec | undefined;
  try {
    const raw = options.sink ?? config?.worker.sink;
    if (raw !== undefined) spec = parseSinkSpec(raw);
  } catch (error) {
    problems.push((error as Error).message);
  }
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
  });
  try {
    const group = config.worker.group;
    const extensions = await Promise.all(
      WORK_EXTENSIONS.map((extend) => extend({ app, config, logger, options, group })),
    );
    const observers = extensions.flatMap((e) => (e.observer ? [e.observer] : []));
    const redis = await app.redis(config, "ingest:worker");
    const blockingRedis = await app.redis(config, "ingest:worker:read");
    const worker = startWorker({
      redis,
      blockingRedis,
      config,
      sink,
      consumer,
      concurrency: config.worker.concurrency,
      drain: options.drain,
      shutdownTimeoutMs,
      visibilityTimeoutMs,
      consumerIdleTimeoutMs,
      observer: combineObservers<WorkerObserver>(...observers),
      logger,
      signal: app.runtime.signal,
    });
    for (const extension of extensions) extension.started?.(worker);
    try {
      await worker.done;
    } finally {
      for (const extension of extensions) await extension.stopped?.();
    }
  } finally {
    await sink.close();
  }
}
