/**
 * Redis connections over ioredis: URL, TLS (`rediss://`) and ACL users,
 * capped exponential reconnect with jitter, and a bounded first connect so a
 * missing Redis is a clear error within seconds, never a hang.
 *
 * @module
 */

import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { RedisConfig } from "../config/config.ts";
import { ConfigError, describeError, IngestError, RedisError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { backoffDelay } from "../retry/backoff.ts";
import { redisCliCommand } from "./redis_cli.ts";
import { classifyRedisFailure, redisFailureKind } from "./redis_failure.ts";
import { readRedisTlsCa, redisTlsOptions } from "./tls.ts";
import type { RedisClient } from "./client.ts";
import { clusterOptions, clusterSeeds, clusterTarget } from "./cluster.ts";

export type { Redis } from "ioredis";
export type { RedisClient } from "./client.ts";

/** Options of {@link connectRedis}. */
export interface RedisConnectOptions {
  /** Shown in `CLIENT LIST` and logs, e.g. `ingest:producer`. */
  name: string;
  /** Logs connection trouble. */
  logger: Logger;
  /** How long the first connection may take. Default 5 s. */
  connectTimeoutMs?: number;
  /** Retries of one command while reconnecting before it fails. Default 2. */
  maxRetriesPerRequest?: number | null;
  /**
   * PEM text of the CA to trust for `rediss://`; {@link connectRedis} reads it
   * from `config.tlsCaFile` (`REDIS_TLS_CA`). Default: the system's CAs.
   */
  tlsCa?: string;
}

/** Connection settings derived from the config, without connecting. */
export function redisOptions(config: RedisConfig, options: RedisConnectOptions): RedisOptions {
  const base: RedisOptions = {
    connectionName: options.name,
    lazyConnect: true,
    connectTimeout: Math.min(options.connectTimeoutMs ?? 5_000, 10_000),
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined
      ? 2
      : options.maxRetriesPerRequest,
    enableReadyCheck: true,
    // ioredis counts reconnect attempts from 1; backoffDelay from 0.
    retryStrategy: (times) => backoffDelay(Math.max(0, times - 1), { baseMs: 100, capMs: 5_000 }),
  };
  if (config.url === undefined) {
    return { ...base, host: config.host, port: config.port, password: config.password };
  }
  const url = new URL(config.url);
  return {
    ...base,
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : config.password,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined,
    tls: url.protocol === "rediss:" ? redisTlsOptions(url.hostname, options.tlsCa) : undefined,
  };
}

/** A human-readable target for messages; never includes the password. */
export function redisTarget(config: RedisConfig): string {
  if (config.clusterNodes.length > 0) return clusterTarget(config);
  if (config.url === undefined) return `${config.host}:${config.port}`;
  const url = new URL(config.url);
  return `${url.protocol}//${url.host}${url.pathname.length > 1 ? url.pathname : ""}`;
}

/**
 * Opens a connection and waits until Redis answers, or throws a
 * {@link RedisError} `REDIS_UNREACHABLE` once `connectTimeoutMs` has passed.
 * With `REDIS_CLUSTER_NODES` it is ioredis' Cluster client (one connection
 * per node, MOVED/ASK and failover followed). Each call opens its own
 * connections: a blocking reader (XREADGROUP BLOCK) calls it again for a
 * dedicated one, so it never holds up the commands of another client.
 */
export async function connectRedis(
  config: RedisConfig,
  options: RedisConnectOptions,
): Promise<RedisClient> {
  const tlsCa = options.tlsCa ??
    (config.tlsCaFile === undefined ? undefined : await readRedisTlsCa(config.tlsCaFile));
  const settings = redisOptions(config, { ...options, tlsCa });
  const cluster = config.clusterNodes.length > 0;
  if (cluster && settings.db) {
    throw new ConfigError([
      `REDIS_URL selects database ${settings.db}, but Redis Cluster has only database 0: ` +
      `drop the path from REDIS_URL`,
    ]);
  }
  const client: RedisClient = cluster
    ? new Cluster(clusterSeeds(config), clusterOptions(settings))
    : new Redis(settings);
  const log = options.logger.child({ component: "redis", connection: options.name });
  let lastError: unknown;
  let refuse: (error: unknown) => void = () => {};
  const refused = new Promise<never>((_, reject) => refuse = reject);
  client.on("error", (reported: unknown) => {
    const error = nodeError(reported);
    lastError = error;
    log.debug("redis connection error", { error: describeError(error) });
    // Retrying cannot fix a wrong password or a port that is not Redis: say so at once.
    if (FINAL_AT_CONNECT.has(redisFailureKind(error))) refuse(error);
  });
  client.on(
    "reconnecting",
    (delay: number) => log.debug("redis reconnecting", { delay_ms: delay }),
  );
  const timeoutMs = options.connectTimeoutMs ?? 5_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      waitReady(client),
      refused,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new IngestError("TIMED_OUT", "timed out", true)),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    client.disconnect();
    throw connectFailure(config, lastError ?? error, timeoutMs);
  } finally {
    clearTimeout(timer);
  }
  if (!cluster) await checkDatabase(client as Redis, settings.db, config);
  return client;
}

/**
 * The Cluster client reports "Failed to refresh slots cache" when no seed
 * answered; the node's own error (WRONGPASS, not Redis, refused) is in
 * `lastNodeError`, and that is what decides whether a retry can help.
 */
function nodeError(error: unknown): unknown {
  const inner = (error as { lastNodeError?: unknown } | null)?.lastNodeError;
  return inner ?? error;
}

/** Failures of the first connect that no retry can mend. */
const FINAL_AT_CONNECT = new Set(["auth", "not_redis"]);

/** The error of a failed first connect: what is wrong, and the command that checks the fix. */
function connectFailure(config: RedisConfig, error: unknown, timeoutMs: number): RedisError {
  const failure = classifyRedisFailure(error, redisCliCommand(config));
  const target = redisTarget(config);
  if (failure.kind === "auth" || failure.kind === "not_redis") {
    return new RedisError(
      failure.code,
      `Redis at ${target}: ${failure.summary} (${describeError(error)}). Fix: ${failure.fix}.`,
      { cause: error, retryable: false },
    );
  }
  const unreachable = classifyRedisFailure(
    new Error("Cannot reach Redis"),
    redisCliCommand(config),
  );
  return new RedisError(
    "REDIS_UNREACHABLE",
    `Cannot reach Redis at ${target} within ${timeoutMs / 1000} s (${describeError(error)}). ` +
      `Fix: ${unreachable.fix}.`,
    { cause: error },
  );
}

/**
 * ioredis ignores a refused SELECT (a database number above the server's
 * `databases` setting) and goes on in database 0, so every write would land
 * in the wrong database. SELECT again and fail the start instead.
 */
async function checkDatabase(client: Redis, db: number | undefined, config: RedisConfig) {
  if (db === undefined || db === 0) return;
  try {
    await client.select(db);
  } catch (error) {
    client.disconnect();
    throw new ConfigError([
      `REDIS_URL selects database ${db}, which Redis at ${redisTarget(config)} refuses ` +
      `(${describeError(error)}): use a number below its "databases" setting (default 16), ` +
      `or /0 on Redis Cluster`,
    ], { cause: error });
  }
}

function waitReady(client: RedisClient): Promise<void> {
  return new Promise((resolve, reject) => {
    client.once("ready", () => resolve());
    client.connect().catch((error: unknown) => {
      // With a retry strategy ioredis keeps trying after the first failure;
      // only a closed connection (e.g. bad auth) is final.
      if (client.status === "end") reject(error);
    });
  });
}

/** Closes a connection politely, falling back to a hard disconnect. */
export async function closeRedis(client: RedisClient): Promise<void> {
  try {
    if (client.status === "ready") {
      await Promise.race([client.quit(), new Promise((r) => setTimeout(r, 1_000))]);
    }
  } catch {
    // Already broken: nothing to flush.
  } finally {
    client.disconnect();
  }
}
