/**
 * The typed, frozen configuration of `ingest`, built from
 * flags > environment > `.env` file > defaults. Every problem is collected
 * before failing, so one {@link ConfigError} names them all.
 *
 * @module
 */

import { LOG_LEVELS, type LogLevel } from "../log/logger.ts";
import { type ConfigSources, SettingsReader } from "./settings_reader.ts";

export { type ConfigSources, MAX_REDIS_DB, type Settings } from "./settings_reader.ts";

/** Where Redis lives and which keys `ingest` uses. */
export interface RedisConfig {
  /** `redis://` or `rediss://` URL, when given; wins over host/port. */
  readonly url: string | undefined;
  /** `REDIS_HOST` (used when no URL is given). */
  readonly host: string;
  /** `REDIS_PORT`. */
  readonly port: number;
  /** `REDIS_PASSWORD`, when not in the URL. */
  readonly password: string | undefined;
  /** The file `REDIS_URL` was read from (`REDIS_URL_FILE`), for fix lines that must not print it. */
  readonly urlFile?: string;
  /** The file `REDIS_PASSWORD` was read from (`REDIS_PASSWORD_FILE`). */
  readonly passwordFile?: string;
  /** `REDIS_TLS_CA`: PEM file of the CA of the server's certificate; unset: the system's CAs. */
  readonly tlsCaFile: string | undefined;
  /** The main stream. */
  readonly streamName: string;
  /** The dead-letter stream. */
  readonly dlqStreamName: string;
  /** Retention target for acknowledged entries. */
  readonly maxStreamLength: number;
  /** `REDIS_CLUSTER_NODES`: seed nodes of a Redis Cluster; empty: one Redis server. */
  readonly clusterNodes: readonly RedisNodeAddress[];
  /** `STREAM_PARTITIONS`: 1 keeps the seed's key names. */
  readonly partitions: number;
  /** `REDIS_WAIT_REPLICAS`: replicas that must confirm a commit (0: none). */
  readonly waitReplicas: number;
  /** `REDIS_WAIT_TIMEOUT_SECONDS`, in ms. */
  readonly waitTimeoutMs: number;
}

/** One `host:port` of `REDIS_CLUSTER_NODES`. */
export interface RedisNodeAddress {
  /** Host name or address (IPv6 without brackets). */
  readonly host: string;
  /** Port. */
  readonly port: number;
}

/** How to reach the IMAP server. */
export interface ImapConfig {
  /** `IMAP_HOST`, default imap.gmail.com. */
  readonly host: string;
  /** `IMAP_PORT`, default 993. */
  readonly port: number;
  /** `IMAP_TLS`: implicit TLS (true unless set false). */
  readonly tls: boolean;
  /** `IMAP_USER`: the account address. */
  readonly user: string | undefined;
  /** `IMAP_AUTH`: XOAUTH2/OAUTHBEARER (`oauth2`) or a password login. */
  readonly auth: "oauth2" | "password";
  /** `IMAP_PASSWORD`, for `auth: "password"`. */
  readonly password: string | undefined;
  /** `IMAP_MAILBOX`, comma-separated: the mailboxes to follow. */
  readonly mailboxes: readonly string[];
  /** `IMAP_COMMAND_TIMEOUT_SECONDS`: silence mid-command before the connection is reopened. */
  readonly commandTimeoutSeconds: number;
  /** `IMAP_IDLE_CHECK_SECONDS`: longest IDLE before a NOOP health check. */
  readonly idleCheckSeconds: number;
}

/** OAuth2 client, token store and endpoints. */
export interface GoogleConfig {
  /** `GOOGLE_CLIENT_ID` of the Desktop OAuth client. */
  readonly clientId: string | undefined;
  /** `GOOGLE_CLIENT_SECRET`. */
  readonly clientSecret: string | undefined;
  /** `GOOGLE_TOKEN_FILE`: the token store. */
  readonly tokenFile: string;
  /** `TOKEN_STORE`: tokens in the file (`file`) or in Redis, shared by a fleet (`redis`). */
  readonly tokenStore: "file" | "redis";
  /** Base64 of 32 bytes; `undefined` stores tokens unencrypted (with a warning). */
  readonly tokenKey: string | undefined;
  /** `GOOGLE_OAUTH_AUTH_URL`: authorization endpoint. */
  readonly authUrl: string;
  /** `GOOGLE_OAUTH_TOKEN_URL`: token endpoint. */
  readonly tokenUrl: string;
  /** `GOOGLE_OAUTH_REVOKE_URL`: revocation endpoint. */
  readonly revokeUrl: string;
  /** `GOOGLE_OAUTH_USERINFO_URL`: finds the account address. */
  readonly userinfoUrl: string;
  /** `AUTH_SETUP_TIMEOUT_SECONDS` (`auth setup --timeout`): wait for consent this long. */
  readonly setupTimeoutSeconds: number;
}

/** Producer tuning. */
export interface ProducerConfig {
  /** `POLL_INTERVAL_SECONDS`: between polls without IDLE. */
  readonly pollIntervalSeconds: number;
  /** `BATCH_SIZE`: messages per fetch and atomic commit. */
  readonly batchSize: number;
  /** `MAX_MESSAGE_BYTES`: larger messages are published without body. */
  readonly maxMessageBytes: number;
  /** `BODY_TEXT_CHARS`: length of `body_text`. */
  readonly bodyTextChars: number;
  /** `BODY_HTML_CHARS`: length of `body_html_preview`. */
  readonly bodyHtmlChars: number;
  /** `STREAM_BACKLOG_LIMIT`: fetching pauses above this many unacknowledged entries. */
  readonly backlogLimit: number;
  /** `PRODUCER_LEASE_TTL_SECONDS` (`--lease-ttl`): single-producer lease lifetime. */
  readonly leaseTtlSeconds: number;
  /** `FLEET_MAX_ACCOUNTS` (`--max-accounts`): most accounts one `produce --fleet` process follows. */
  readonly fleetMaxAccounts: number;
  /** `EVENTS` (`--events`): the change events published besides new mail. */
  readonly events: { readonly updated: boolean; readonly deleted: boolean };
  /** `EVENTS_RESCAN_LIMIT`: without CONDSTORE, newest messages whose flags are re-read per round. */
  readonly eventsRescanLimit: number;
  /** `IMAP_DAILY_DOWNLOAD_MB`: per account, history backfill pauses at this many MB in 24 h. */
  readonly dailyDownloadMb: number;
}

/** Worker tuning. */
export interface WorkerConfig {
  /** `WORKER_GROUP`: the consumer group. */
  readonly group: string;
  /** The `--sink` spec, e.g. `file:/var/lib/ingest/out.jsonl`; `undefined` when none is set. */
  readonly sink: string | undefined;
  /** Entries handled at once per process. */
  readonly concurrency: number;
  /** `WORKER_READ_AHEAD`: entries read ahead of the sink calls (0: none). */
  readonly readAhead: number;
  /** `WORKER_MAX_ATTEMPTS`: attempts before the DLQ. */
  readonly maxAttempts: number;
  /** `WORKER_BACKOFF_BASE_MS`: first retry delay. */
  readonly backoffBaseMs: number;
  /** `WORKER_BACKOFF_CAP_MS`: longest retry delay. */
  readonly backoffCapMs: number;
  /** `PROCESSED_TTL_SECONDS`: how long processed-records are kept. */
  readonly processedTtlSeconds: number;
  /** `WEBHOOK_SECRET`: signs webhook bodies. */
  readonly webhookSecret: string | undefined;
  /** `EXEC_SINK_ENV`: names of variables passed on to an exec sink's command. */
  readonly execSinkEnv: readonly string[];
  /** `WORKER_SHUTDOWN_TIMEOUT_SECONDS` (`--shutdown-timeout`): grace for in-flight handlers. */
  readonly shutdownTimeoutSeconds: number;
  /** `WORKER_VISIBILITY_TIMEOUT_SECONDS` (`--visibility-timeout`): pending this long is taken over. */
  readonly visibilityTimeoutSeconds: number;
  /** `WORKER_CONSUMER_IDLE_TIMEOUT_SECONDS` (`--consumer-idle-timeout`): idle consumers removed. */
  readonly consumerIdleTimeoutSeconds: number;
  /** `GROUP_ORPHAN_SECONDS` (`--orphan-after`): a group unattended this long is reported. */
  readonly groupOrphanSeconds: number;
}

/** Metrics and health endpoints. */
export interface ObservabilityConfig {
  /** `ACCOUNT_ALIAS`: the account label in metrics. */
  readonly accountAlias: string | undefined;
  /** `HEALTH_HOST`: address of the health server. */
  readonly healthHost: string;
  /** 0 disables the health server. */
  readonly healthPort: number;
}

/** `ingest doctor`. */
export interface DoctorConfig {
  /** `DOCTOR_TIMEOUT_SECONDS` (`doctor --timeout`): bound on each connection and command. */
  readonly timeoutSeconds: number;
}

/** Logging. */
export interface LogConfig {
  /** `LOG_LEVEL`. */
  readonly level: LogLevel;
  /** `LOG_FORMAT`: `auto` is pretty on a terminal, JSON otherwise. */
  readonly format: "json" | "pretty" | "auto";
}

/** The whole configuration; frozen. */
export interface Config {
  /** Redis connection and key names. */
  readonly redis: RedisConfig;
  /** The IMAP server and account. */
  readonly imap: ImapConfig;
  /** OAuth2 client, token store and endpoints. */
  readonly google: GoogleConfig;
  /** Producer tuning. */
  readonly producer: ProducerConfig;
  /** Worker tuning. */
  readonly worker: WorkerConfig;
  /** Metrics labels and the health server. */
  readonly observability: ObservabilityConfig;
  /** `ingest doctor`'s bounds. */
  readonly doctor: DoctorConfig;
  /** Logging. */
  readonly log: LogConfig;
}

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
