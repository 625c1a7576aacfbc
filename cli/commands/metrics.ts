/**
 * `ingest metrics serve`: a standalone Prometheus exporter of what lives in
 * Redis, and the health-server wiring `produce` and `work` share.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { Config, Settings } from "../../src/config/config.ts";
import { describeError, UsageError } from "../../src/errors.ts";
import { checkRedis } from "../../src/health/checks.ts";
import { DEFAULT_PORTS } from "../../src/health/ports.ts";
import { type HealthServer, type Readiness, startHealthServer } from "../../src/health/server.ts";
import type { AccountLabeler } from "../../src/metrics/account_label.ts";
import { createPipelineMetrics, type PipelineMetrics } from "../../src/metrics/pipeline.ts";
import type { RedisCollector, RedisSnapshot } from "../../src/metrics/redis_collector.ts";
import type { Registry } from "../../src/metrics/registry.ts";
import { createProducerMetrics } from "../../src/metrics/producer.ts";
import { createWorkerMetrics } from "../../src/metrics/worker.ts";
import type { ProducerHandle } from "../../src/producer/producer.ts";
import type { WorkerHandle } from "../../src/worker/worker.ts";
import type { ProduceExtension } from "./produce.ts";
import type { WorkExtension } from "./work.ts";
import type { Redis } from "../../src/redis/connection.ts";
import type { App } from "../app.ts";
import { examples, printResult } from "./common.ts";
import { streamReportJson } from "./stream.ts";

/** The `--health-port` / `--health-host` flags of a long-running command. */
export interface HealthFlags {
  healthPort?: string;
  healthHost?: string;
}

/** Help of the health flags, shared by `produce` and `work`. */
export const HEALTH_FLAG_HELP = {
  port:
    `port of /health /ready /status /metrics; 0 disables (default: HEALTH_PORT or ${DEFAULT_PORTS.produce}; give work ${DEFAULT_PORTS.work} beside a producer)`,
  host: "address of that server (default: HEALTH_HOST or 127.0.0.1)",
} as const;

/**
 * Whether a run starts its health server: long-running runs do unless
 * HEALTH_PORT is 0; one-shot runs (`produce --once`/`--dry-run`,
 * `work --drain`) only when `--health-port` is given, so a cron job beside a
 * running service does not fight over its port.
 */
export function wantsHealthServer(flags: HealthFlags, oneShot: boolean): boolean {
  return !oneShot || flags.healthPort !== undefined;
}

/** The configuration layer the health flags set. */
export function healthSettings(flags: HealthFlags): Settings {
  return { HEALTH_PORT: flags.healthPort, HEALTH_HOST: flags.healthHost };
}

/**
 * The registry of a long-running command: process metrics plus the Redis
 * collector on a dedicated connection (`ingest:metrics`).
 */
export async function commandMetrics(
  app: App,
  config: Config,
  component: string,
): Promise<PipelineMetrics & { redis: Redis }> {
  const redis = await app.redis(config, "ingest:metrics");
  const metrics = createPipelineMetrics(config, redis, { component, logger: app.logger(config) });
  return { ...metrics, redis };
}

/** What a command serves on its health endpoints. */
export interface HealthEndpoints {
  registry: Registry;
  ready: () => Promise<Readiness>;
  status?: () => Promise<unknown>;
}

/**
 * Starts the health server on `HEALTH_HOST:HEALTH_PORT` (flags win), stopped
 * on SIGINT/SIGTERM; `undefined` when the port is 0 (disabled). Call
 * `shutdown()` when the command ends.
 */
export function startCommandHealthServer(
  app: App,
  config: Config,
  endpoints: HealthEndpoints,
): HealthServer | undefined {
  if (config.observability.healthPort === 0) return undefined;
  return startHealthServer({
    host: config.observability.healthHost,
    port: config.observability.healthPort,
    ...endpoints,
    signal: app.runtime.signal,
    logger: app.logger(config),
  });
}

/**
 * `ingest produce`'s health server: producer metrics on the pipeline registry,
 * `/ready` = Redis answers and every mailbox is healthy (none parked),
 * `/status` = the producer's per-mailbox report plus the stream's lag and DLQ.
 * Started before the producer, so a busy port stops the command before any
 * IMAP or Redis work.
 */
export const produceHealthExtension: ProduceExtension = async ({ app, config, options }) => {
  if (!wantsHealthServer(options, Boolean(options.once || options.dryRun))) return {};
  if (config.observability.healthPort === 0) return {};
  const { registry, collector, redis } = await commandMetrics(app, config, "produce");
  const observer = createProducerMetrics(registry, {
    accountAlias: config.observability.accountAlias,
    account: config.imap.user,
  });
  let producer: ProducerHandle | undefined;
  const server = startCommandHealthServer(app, config, {
    registry,
    ready: async () => {
      const redisCheck = await checkRedis(redis);
      const own = producer?.ready();
      return {
        ready: redisCheck.ok && own !== undefined && own.ready,
        checks: { redis: redisCheck, mailboxes: own?.checks ?? "starting" },
      };
    },
    status: async () => ({
      producer: producer?.status() ?? null,
      pipeline: await pipelineStatus(collector),
    }),
  });
  return {
    observer,
    started: (handle) => (producer = handle),
    stopped: () => server?.shutdown(),
  };
};

/**
 * `ingest work`'s health server: worker metrics on the pipeline registry,
 * `/ready` = the worker's own verdict (loop not stuck, group reachable),
 * `/status` = the worker's report plus the stream's lag and DLQ.
 */
export const workHealthExtension: WorkExtension = async ({ app, config, options, group }) => {
  if (!wantsHealthServer(options, Boolean(options.drain))) return {};
  if (config.observability.healthPort === 0) return {};
  const { registry, collector } = await commandMetrics(app, config, "work");
  const observer = createWorkerMetrics(registry, { group });
  let worker: WorkerHandle | undefined;
  const server = startCommandHealthServer(app, config, {
    registry,
    ready: async () => {
      if (worker === undefined) return { ready: false, checks: "starting" };
      return await worker.ready();
    },
    status: async () => ({
      worker: worker?.status() ?? null,
      pipeline: await pipelineStatus(collector),
    }),
  });
  return {
    observer,
    started: (handle) => (worker = handle),
    stopped: () => server?.shutdown(),
  };
};

/** The `/status` body of `metrics serve`: the stream as `stream inspect --json`, mailboxes by label. */
export function exporterStatus(snapshot: RedisSnapshot, label: AccountLabeler): unknown {
  return {
    stream: streamReportJson(snapshot.stream),
    mailboxes: snapshot.cursors.map((cursor) => ({
      account: label(cursor.account),
      mailbox: cursor.mailbox,
      last_uid: cursor.lastUid,
      uidvalidity: cursor.uidValidity,
      last_poll: cursor.lastPoll,
      total_emails: cursor.totalEmails,
    })),
    downloaded_last_24h_bytes: Object.fromEntries(
      [...snapshot.downloaded].map(([account, bytes]) => [label(account), bytes]),
    ),
  };
}

/**
 * The stream part of a long-running command's `/status`: length, lag and
 * pending per group, DLQ depth; or the error when Redis cannot be read.
 */
export async function pipelineStatus(collector: RedisCollector): Promise<unknown> {
  try {
    const { stream } = await collector.snapshot();
    return {
      stream: stream.stream,
      length: stream.length,
      groups: stream.groups.map((g) => ({
        name: g.name,
        lag: g.lag,
        pending: g.pending,
        oldest_pending_age_ms: g.oldestPendingAgeMs,
        consumers: g.consumers.length,
      })),
      dlq: stream.dlq,
    };
  } catch (error) {
    return { error: describeError(error) };
  }
}

function parsePort(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new UsageError(
      `--port must be a whole number 0..65535 (0 picks a free port): current value is "${raw}"`,
    );
  }
  return Number(raw);
}

/** Builds the `metrics` command group. */
export function metricsCommand(app: App): Command {
  const metrics = new Command("metrics").description("Prometheus metrics of the pipeline");
  metrics.command("serve")
    .description(
      "Export what lives in Redis (stream depth, group lag/pending/oldest age, DLQ depth, " +
        "per-mailbox last poll age and totals, 24 h downloads) for Prometheus, until stopped",
    )
    .option(
      "--port <port>",
      "port to listen on (0 picks a free one)",
      String(DEFAULT_PORTS.exporter),
    )
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--stream <name>", "stream to watch (default: REDIS_STREAM_NAME)")
    .option("--json", "print the listening address as JSON")
    .addHelpText(
      "after",
      examples(
        "ingest metrics serve",
        "ingest metrics serve --port 9464 --host 10.0.0.5",
        `curl -s http://127.0.0.1:${DEFAULT_PORTS.exporter}/metrics | grep email_ingestion_stream_depth`,
      ) +
        "\nEndpoints: /metrics (Prometheus text), /ready (Redis reachable), /status (JSON), /health.\n" +
        "Stops on SIGINT/SIGTERM.\n",
    )
    .action(async (options) => {
      const port = parsePort(options.port);
      const config = await app.config({ REDIS_STREAM_NAME: options.stream });
      const { registry, collector, labelAccount, redis } = await commandMetrics(
        app,
        config,
        "metrics",
      );
      const server = startHealthServer({
        host: options.host,
        port,
        registry,
        ready: async (): Promise<Readiness> => {
          const check = await checkRedis(redis);
          return { ready: check.ok, checks: { redis: check } };
        },
        status: async () => exporterStatus(await collector.snapshot(), labelAccount),
        signal: app.runtime.signal,
        logger: app.logger(config),
        portSetting: "--port",
      });
      printResult(
        app,
        options.json,
        { url: server.url, metrics_url: `${server.url}/metrics`, stream: config.redis.streamName },
        () =>
          `Serving metrics of ${config.redis.streamName} on ${server.url}/metrics (Ctrl-C to stop)\n`,
      );
      await server.finished;
    });
  return metrics;
}
