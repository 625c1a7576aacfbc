/**
 * The health servers of the long-running commands: `ingest produce` and
 * `ingest work` serve `/health`, `/ready`, `/status` and `/metrics` for the
 * producer or worker they run; `ingest metrics serve` is the standalone
 * exporter. The command files only decide whether to start one
 * (health_wanted.ts, which loads none of this) and pass the handle on.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { createPipelineMetrics } from "../metrics/pipeline.ts";
import { createProducerMetrics } from "../metrics/producer.ts";
import { createWorkerMetrics } from "../metrics/worker.ts";
import type { ProducerObserver, WorkerObserver } from "../observe/events.ts";
import type { FleetHandle } from "../fleet/fleet.ts";
import type { AccountLabeler } from "../metrics/account_label.ts";
import type { ProducerHandle } from "../producer/producer.ts";
import type { RedisClient } from "../redis/connection.ts";
import type { WorkerHandle } from "../worker/worker.ts";
import { checkRedis } from "./checks.ts";
import { exporterStatus, pipelineStatus } from "./pipeline_status.ts";
import { type HealthServer, type Readiness, startHealthServer } from "./server.ts";

/** What every health server of a command needs. */
export interface CommandHealthOptions {
  /** Host, port (`observability`), stream and account label come from here. */
  readonly config: Config;
  /** A connection of its own (e.g. `ingest:metrics`): a blocked read would stall scrapes. */
  readonly redis: RedisClient;
  readonly logger: Logger;
  /** Stops the server when aborted (SIGINT/SIGTERM). */
  readonly signal: AbortSignal;
}

/** A command's health server, bound to the producer or worker it serves once that exists. */
export interface CommandHealth<Observer, Handle> {
  /** Feeds the metrics; pass it to the producer or worker. */
  readonly observer: Observer;
  /** Serve this handle's `ready()` and `status()` from now on. */
  attach(handle: Handle): void;
  /** Stops the server. */
  shutdown(): Promise<void>;
}

/**
 * `ingest produce`'s server: producer metrics on the pipeline registry,
 * `/ready` = Redis answers and every mailbox is healthy (none parked),
 * `/status` = the producer's per-mailbox report plus the stream's view.
 * Start it before the producer, so a busy port stops the command before any
 * IMAP or Redis work.
 */
export function startProducerHealth(
  options: CommandHealthOptions,
): CommandHealth<ProducerObserver, ProducerHandle> {
  const { config, redis } = options;
  const { registry, collector } = createPipelineMetrics(config, redis, {
    component: "produce",
    logger: options.logger,
  });
  const observer = createProducerMetrics(registry, {
    accountAlias: config.observability.accountAlias,
    account: config.imap.user,
  });
  let producer: ProducerHandle | undefined;
  const server = serve(options, registry, {
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
  return { observer, attach: (handle) => (producer = handle), shutdown: () => server.shutdown() };
}

/**
 * `ingest produce --fleet`'s server: producer metrics with every account
 * labelled by `labeler` (its registry alias or hashed id), `/ready` = Redis
 * answers and the fleet's last tick went through, `/status` = the fleet
 * (processes, fair share, each followed account) plus the stream's view.
 */
export function startFleetHealth(
  options: CommandHealthOptions & { readonly labeler: AccountLabeler },
): CommandHealth<ProducerObserver, FleetHandle> {
  const { config, redis } = options;
  const { registry, collector } = createPipelineMetrics(config, redis, {
    component: "produce",
    logger: options.logger,
  });
  const observer = createProducerMetrics(registry, { labeler: options.labeler });
  let fleet: FleetHandle | undefined;
  const server = serve(options, registry, {
    ready: async () => {
      const redisCheck = await checkRedis(redis);
      const own = fleet?.ready();
      return {
        ready: redisCheck.ok && own !== undefined && own.ready,
        checks: { redis: redisCheck, fleet: own?.checks ?? "starting" },
      };
    },
    status: async () => ({
      producer: null,
      fleet: fleet ? await fleet.describe() : null,
      pipeline: await pipelineStatus(collector),
    }),
  });
  return { observer, attach: (handle) => (fleet = handle), shutdown: () => server.shutdown() };
}

/**
 * `ingest work`'s server: worker metrics on the pipeline registry,
 * `/ready` = the worker's own verdict (loop not stuck, group reachable),
 * `/status` = the worker's report plus the stream's view.
 */
export function startWorkerHealth(
  options: CommandHealthOptions & { readonly group: string },
): CommandHealth<WorkerObserver, WorkerHandle> {
  const { registry, collector } = createPipelineMetrics(options.config, options.redis, {
    component: "work",
    logger: options.logger,
  });
  const observer = createWorkerMetrics(registry, { group: options.group });
  let worker: WorkerHandle | undefined;
  const server = serve(options, registry, {
    ready: async (): Promise<Readiness> =>
      worker === undefined ? { ready: false, checks: "starting" } : await worker.ready(),
    status: async () => ({
      worker: worker?.status() ?? null,
      pipeline: await pipelineStatus(collector),
    }),
  });
  return { observer, attach: (handle) => (worker = handle), shutdown: () => server.shutdown() };
}

/** Where the standalone exporter listens. */
export interface ExporterOptions extends CommandHealthOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/**
 * `ingest metrics serve`: what lives in Redis for Prometheus on `/metrics`,
 * `/ready` = Redis answers, `/status` = {@link exporterStatus}.
 */
export function startExporter(options: ExporterOptions): HealthServer {
  const { registry, collector, labelAccount } = createPipelineMetrics(
    options.config,
    options.redis,
    { component: "metrics", logger: options.logger },
  );
  return startHealthServer({
    host: options.host,
    port: options.port,
    registry,
    ready: async (): Promise<Readiness> => {
      const check = await checkRedis(options.redis);
      return { ready: check.ok, checks: { redis: check } };
    },
    status: async () => exporterStatus(await collector.snapshot(), labelAccount),
    signal: options.signal,
    logger: options.logger,
    portSetting: "--port",
  });
}

function serve(
  options: CommandHealthOptions,
  registry: Parameters<typeof startHealthServer>[0]["registry"],
  endpoints: Pick<Parameters<typeof startHealthServer>[0], "ready" | "status">,
): HealthServer {
  return startHealthServer({
    host: options.config.observability.healthHost,
    port: options.config.observability.healthPort,
    registry,
    ...endpoints,
    signal: options.signal,
    logger: options.logger,
  });
}
