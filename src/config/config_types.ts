/**
 * The shape of the typed configuration ({@link Config}) that `loadConfig`
 * in `config.ts` builds.
 *
 * @module
 */

import type { LogLevel } from "../log/logger.ts";

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
  /** `FILE_SINK_PAGE_CACHE`: what a file sink's synced pages become in the page cache. */
  readonly fileSinkPageCache: "drop" | "keep";
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
