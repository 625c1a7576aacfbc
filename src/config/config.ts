/**
 * The typed, frozen configuration of `ingest`, built from
 * flags > environment > `.env` file > defaults. Every problem is collected
 * before failing, so one {@link ConfigError} names them all.
 *
 * @module
 */

import { LOG_LEVELS } from "../log/logger.ts";
import { type ConfigSources, SettingsReader } from "./settings_reader.ts";
import type {
  Config,
  GoogleConfig,
  ImapConfig,
  ProducerConfig,
  RedisConfig,
  RedisNodeAddress,
  WorkerConfig,
} from "./config_types.ts";

export { type ConfigSources, MAX_REDIS_DB, type Settings } from "./settings_reader.ts";

export type {
  Config,
  DoctorConfig,
  GoogleConfig,
  ImapConfig,
  LogConfig,
  ObservabilityConfig,
  ProducerConfig,
  RedisConfig,
  RedisNodeAddress,
  WorkerConfig,
} from "./config_types.ts";

/** Builds the frozen {@link Config}, or throws one {@link ConfigError} naming every problem. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const read = new SettingsReader(sources);
  const config: Config = {
    redis: readRedis(read),
    imap: readImap(read),
    google: readGoogle(read),
    producer: readProducer(read),
    worker: readWorker(read),
    observability: {
      accountAlias: read.optional("ACCOUNT_ALIAS"),
      healthHost: read.text("HEALTH_HOST"),
      healthPort: read.integer("HEALTH_PORT"),
    },
    doctor: { timeoutSeconds: read.seconds("DOCTOR_TIMEOUT_SECONDS") },
    log: {
      level: read.choice("LOG_LEVEL", LOG_LEVELS),
      format: read.choice("LOG_FORMAT", ["json", "pretty", "auto"] as const),
    },
  };
  checkCombinations(config, read);
  read.throwIfProblems();
  return deepFreeze(config);
}

function readRedis(read: SettingsReader): RedisConfig {
  const streamName = read.text("REDIS_STREAM_NAME");
  return {
    url: read.redisUrl("REDIS_URL"),
    host: read.text("REDIS_HOST"),
    port: read.integer("REDIS_PORT"),
    password: read.optional("REDIS_PASSWORD"),
    urlFile: read.secretFile("REDIS_URL"),
    passwordFile: read.secretFile("REDIS_PASSWORD"),
    tlsCaFile: read.optional("REDIS_TLS_CA"),
    streamName,
    dlqStreamName: read.optional("REDIS_DLQ_STREAM_NAME") ?? `${streamName}:dlq`,
    maxStreamLength: read.integer("REDIS_MAX_STREAM_LENGTH"),
    clusterNodes: readClusterNodes(read),
    partitions: read.integer("STREAM_PARTITIONS"),
    waitReplicas: read.integer("REDIS_WAIT_REPLICAS"),
    waitTimeoutMs: Math.round(read.seconds("REDIS_WAIT_TIMEOUT_SECONDS") * 1_000),
  };
}

/** `host:port,host:port`, IPv6 as `[::1]:7000`; every bad item named in one problem. */
function readClusterNodes(read: SettingsReader): RedisNodeAddress[] {
  const items = (read.optional("REDIS_CLUSTER_NODES") ?? "").split(",").map((i) => i.trim())
    .filter((i) => i !== "");
  const nodes: RedisNodeAddress[] = [];
  const bad: string[] = [];
  for (const item of items) {
    const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65_535) bad.push(item);
    else nodes.push({ host: match[1]!.replace(/^\[|\]$/g, ""), port });
  }
  if (bad.length > 0) {
    read.problem(
      `REDIS_CLUSTER_NODES must be host:port items separated by commas: not one: ${bad.join(", ")}`,
    );
  }
  return nodes;
}

function readImap(read: SettingsReader): ImapConfig {
  return {
    host: read.text("IMAP_HOST"),
    port: read.integer("IMAP_PORT"),
    tls: read.boolean("IMAP_TLS"),
    user: read.optional("IMAP_USER"),
    auth: read.choice("IMAP_AUTH", ["oauth2", "password"] as const),
    password: read.optional("IMAP_PASSWORD"),
    mailboxes: read.list("IMAP_MAILBOX"),
    commandTimeoutSeconds: read.integer("IMAP_COMMAND_TIMEOUT_SECONDS"),
    idleCheckSeconds: read.integer("IMAP_IDLE_CHECK_SECONDS"),
  };
}

function readGoogle(read: SettingsReader): GoogleConfig {
  return {
    clientId: read.optional("GOOGLE_CLIENT_ID"),
    clientSecret: read.optional("GOOGLE_CLIENT_SECRET"),
    tokenFile: read.text("GOOGLE_TOKEN_FILE"),
    tokenStore: read.choice("TOKEN_STORE", ["file", "redis"] as const),
    tokenKey: read.tokenKey("INGEST_TOKEN_KEY"),
    authUrl: read.httpUrl("GOOGLE_OAUTH_AUTH_URL"),
    tokenUrl: read.httpUrl("GOOGLE_OAUTH_TOKEN_URL"),
    revokeUrl: read.httpUrl("GOOGLE_OAUTH_REVOKE_URL"),
    userinfoUrl: read.httpUrl("GOOGLE_OAUTH_USERINFO_URL"),
    setupTimeoutSeconds: read.integer("AUTH_SETUP_TIMEOUT_SECONDS"),
  };
}

function readProducer(read: SettingsReader): ProducerConfig {
  return {
    pollIntervalSeconds: read.integer("POLL_INTERVAL_SECONDS"),
    batchSize: read.integer("BATCH_SIZE"),
    maxMessageBytes: read.integer("MAX_MESSAGE_BYTES"),
    bodyTextChars: read.integer("BODY_TEXT_CHARS"),
    bodyHtmlChars: read.integer("BODY_HTML_CHARS"),
    backlogLimit: read.integer("STREAM_BACKLOG_LIMIT"),
    leaseTtlSeconds: read.integer("PRODUCER_LEASE_TTL_SECONDS"),
    fleetMaxAccounts: read.integer("FLEET_MAX_ACCOUNTS"),
    events: readEvents(read),
    eventsRescanLimit: read.integer("EVENTS_RESCAN_LIMIT"),
    dailyDownloadMb: read.integer("IMAP_DAILY_DOWNLOAD_MB"),
  };
}

function readEvents(read: SettingsReader): ProducerConfig["events"] {
  const events = read.subset("EVENTS", ["new", "updated", "deleted"] as const);
  if (events.length > 0 && !events.includes("new")) {
    read.problem(
      `EVENTS (--events) must include new: updates and deletions refer to messages published ` +
        `as email entries: current value is "${read.raw("EVENTS")}"`,
    );
  }
  return { updated: events.includes("updated"), deleted: events.includes("deleted") };
}

function readWorker(read: SettingsReader): WorkerConfig {
  return {
    group: read.text("WORKER_GROUP"),
    sink: read.optional("WORKER_SINK"),
    concurrency: read.integer("WORKER_CONCURRENCY"),
    readAhead: read.integer("WORKER_READ_AHEAD"),
    maxAttempts: read.integer("WORKER_MAX_ATTEMPTS"),
    backoffBaseMs: read.integer("WORKER_BACKOFF_BASE_MS"),
    backoffCapMs: read.integer("WORKER_BACKOFF_CAP_MS"),
    processedTtlSeconds: read.integer("PROCESSED_TTL_SECONDS"),
    webhookSecret: read.optional("WEBHOOK_SECRET"),
    execSinkEnv: read.names("EXEC_SINK_ENV"),
    fileSinkPageCache: read.choice("FILE_SINK_PAGE_CACHE", ["drop", "keep"] as const),
    shutdownTimeoutSeconds: read.seconds("WORKER_SHUTDOWN_TIMEOUT_SECONDS"),
    visibilityTimeoutSeconds: read.seconds("WORKER_VISIBILITY_TIMEOUT_SECONDS"),
    consumerIdleTimeoutSeconds: read.seconds("WORKER_CONSUMER_IDLE_TIMEOUT_SECONDS"),
    groupOrphanSeconds: read.seconds("GROUP_ORPHAN_SECONDS"),
  };
}

/** Problems no single row can see: settings that only make sense together. */
function checkCombinations(config: Config, read: SettingsReader): void {
  if (
    config.redis.tlsCaFile !== undefined && !config.redis.url?.toLowerCase().startsWith("rediss:")
  ) {
    read.problem(
      "REDIS_TLS_CA is set but REDIS_URL is not a rediss:// URL: use rediss://host:port, or unset REDIS_TLS_CA",
    );
  }
  if (config.redis.clusterNodes.length > 0 && config.redis.partitions < 2) {
    read.problem(
      "REDIS_CLUSTER_NODES needs STREAM_PARTITIONS >= 2: with one partition the keys of a commit " +
        "have no hash tag and land in different slots (set e.g. STREAM_PARTITIONS=6, docs/CLUSTER.md)",
    );
  }
  if (config.imap.auth === "password" && config.imap.password === undefined) {
    read.problem(
      "IMAP_PASSWORD is required when IMAP_AUTH=password: set it or use IMAP_AUTH=oauth2",
    );
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
