/**
 * The typed, frozen configuration of `ingest`, built from
 * flags > environment > `.env` file > defaults. Every problem is collected
 * before failing, so one {@link ConfigError} names them all.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { LOG_LEVELS, type LogLevel } from "../log/logger.ts";
import { type VariableName, variableSpec } from "./variables.ts";

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
  /** `REDIS_TLS_CA`: PEM file of the CA of the server's certificate; unset: the system's CAs. */
  readonly tlsCaFile: string | undefined;
  /** The main stream. */
  readonly streamName: string;
  /** The dead-letter stream. */
  readonly dlqStreamName: string;
  /** Retention target for acknowledged entries. */
  readonly maxStreamLength: number;
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
}

/** Worker tuning. */
export interface WorkerConfig {
  /** `WORKER_GROUP`: the consumer group. */
  readonly group: string;
  /** The `--sink` spec, e.g. `file:/var/lib/ingest/out.jsonl`. */
  readonly sink: string;
  /** Entries handled at once per process. */
  readonly concurrency: number;
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
  /** Logging. */
  readonly log: LogConfig;
}

/** Values by variable name; `undefined` means "not given here". */
export type Settings = Partial<Record<VariableName | string, string | undefined>>;

/** The layers {@link loadConfig} merges, highest priority first. */
export interface ConfigSources {
  /** From command-line flags, keyed by the variable they set. */
  flags?: Settings;
  /** The process environment. */
  env?: Settings;
  /** The `.env` file's contents. */
  dotenv?: Settings;
}

/** Builds the frozen {@link Config}, or throws one {@link ConfigError} naming every problem. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const read = new SettingsReader(sources);
  const streamName = read.text("REDIS_STREAM_NAME");
  const config: Config = {
    redis: {
      url: read.redisUrl("REDIS_URL"),
      host: read.text("REDIS_HOST"),
      port: read.port("REDIS_PORT"),
      password: read.optional("REDIS_PASSWORD"),
      tlsCaFile: read.optional("REDIS_TLS_CA"),
      streamName,
      dlqStreamName: read.optional("REDIS_DLQ_STREAM_NAME") ?? `${streamName}:dlq`,
      maxStreamLength: read.integer("REDIS_MAX_STREAM_LENGTH", 1),
    },
    imap: {
      host: read.text("IMAP_HOST"),
      port: read.port("IMAP_PORT"),
      tls: read.boolean("IMAP_TLS"),
      user: read.optional("IMAP_USER"),
      auth: read.choice("IMAP_AUTH", ["oauth2", "password"] as const),
      password: read.optional("IMAP_PASSWORD"),
      mailboxes: read.list("IMAP_MAILBOX"),
      commandTimeoutSeconds: read.integer("IMAP_COMMAND_TIMEOUT_SECONDS", 1, 3600),
      idleCheckSeconds: read.integer("IMAP_IDLE_CHECK_SECONDS", 1, 1740),
    },
    google: {
      clientId: read.optional("GOOGLE_CLIENT_ID"),
      clientSecret: read.optional("GOOGLE_CLIENT_SECRET"),
      tokenFile: read.text("GOOGLE_TOKEN_FILE"),
      tokenKey: read.tokenKey("INGEST_TOKEN_KEY"),
      authUrl: read.httpUrl("GOOGLE_OAUTH_AUTH_URL"),
      tokenUrl: read.httpUrl("GOOGLE_OAUTH_TOKEN_URL"),
      revokeUrl: read.httpUrl("GOOGLE_OAUTH_REVOKE_URL"),
      userinfoUrl: read.httpUrl("GOOGLE_OAUTH_USERINFO_URL"),
    },
    producer: {
      pollIntervalSeconds: read.integer("POLL_INTERVAL_SECONDS", 1),
      batchSize: read.integer("BATCH_SIZE", 1, 10_000),
      maxMessageBytes: read.integer("MAX_MESSAGE_BYTES", 1024),
      bodyTextChars: read.integer("BODY_TEXT_CHARS", 0),
      bodyHtmlChars: read.integer("BODY_HTML_CHARS", 0),
      backlogLimit: read.integer("STREAM_BACKLOG_LIMIT", 1),
    },
    worker: {
      group: read.text("WORKER_GROUP"),
      sink: read.text("WORKER_SINK"),
      concurrency: read.integer("WORKER_CONCURRENCY", 1, 1000),
      maxAttempts: read.integer("WORKER_MAX_ATTEMPTS", 1, 1000),
      backoffBaseMs: read.integer("WORKER_BACKOFF_BASE_MS", 1),
      backoffCapMs: read.integer("WORKER_BACKOFF_CAP_MS", 1),
      processedTtlSeconds: read.integer("PROCESSED_TTL_SECONDS", 1),
      webhookSecret: read.optional("WEBHOOK_SECRET"),
      execSinkEnv: read.names("EXEC_SINK_ENV"),
    },
    observability: {
      accountAlias: read.optional("ACCOUNT_ALIAS"),
      healthHost: read.text("HEALTH_HOST"),
      healthPort: read.integer("HEALTH_PORT", 0, 65535),
    },
    log: {
      level: read.choice("LOG_LEVEL", LOG_LEVELS),
      format: read.choice("LOG_FORMAT", ["json", "pretty", "auto"] as const),
    },
  };
  if (
    config.redis.tlsCaFile !== undefined && !config.redis.url?.toLowerCase().startsWith("rediss:")
  ) {
    read.problem(
      "REDIS_TLS_CA is set but REDIS_URL is not a rediss:// URL: use rediss://host:port, or unset REDIS_TLS_CA",
    );
  }
  if (config.imap.auth === "password" && config.imap.password === undefined) {
    read.problem(
      "IMAP_PASSWORD is required when IMAP_AUTH=password: set it or use IMAP_AUTH=oauth2",
    );
  }
  read.throwIfProblems();
  return deepFreeze(config);
}

/** Reads one layer-merged value at a time and records problems instead of throwing. */
class SettingsReader {
  readonly #sources: ConfigSources;
  readonly #problems: string[] = [];

  constructor(sources: ConfigSources) {
    this.#sources = sources;
  }

  /** The merged raw value, or the variable's default. */
  raw(name: VariableName): string {
    for (const layer of [this.#sources.flags, this.#sources.env, this.#sources.dotenv]) {
      const value = layer?.[name];
      if (value !== undefined) return value;
    }
    return variableSpec(name).default;
  }

  problem(message: string): void {
    this.#problems.push(message);
  }

  throwIfProblems(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#problems);
  }

  optional(name: VariableName): string | undefined {
    const value = this.raw(name).trim();
    return value === "" ? undefined : value;
  }

  text(name: VariableName): string {
    const value = this.optional(name);
    if (value === undefined) {
      this.problem(`${name} must not be empty (default: ${variableSpec(name).default})`);
      return variableSpec(name).default;
    }
    return value;
  }

  integer(name: VariableName, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.raw(name).trim();
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`;
      this.problem(`${name} must be a whole number ${range}: current value is "${raw}"`);
      return Number(variableSpec(name).default) || min;
    }
    return value;
  }

  port(name: VariableName): number {
    return this.integer(name, 1, 65535);
  }

  boolean(name: VariableName): boolean {
    const raw = this.raw(name).trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(raw)) return true;
    if (["false", "0", "no", "off"].includes(raw)) return false;
    this.problem(`${name} must be true or false: current value is "${raw}"`);
    return true;
  }

  choice<T extends string>(name: VariableName, allowed: readonly T[]): T {
    const raw = this.raw(name).trim().toLowerCase();
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problem(`${name} must be one of ${allowed.join(", ")}: current value is "${raw}"`);
    return allowed[0] as T;
  }

  /** A comma-separated list of environment variable names (may be empty). */
  names(name: VariableName): string[] {
    const items = this.raw(name).split(",").map((item) => item.trim()).filter((item) => item);
    const bad = items.filter((item) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(item));
    if (bad.length > 0) {
      this.problem(
        `${name} must list variable names separated by commas: not a name: ${bad.join(", ")}`,
      );
    }
    return items.filter((item) => !bad.includes(item));
  }

  list(name: VariableName): string[] {
    const items = this.raw(name).split(",").map((item) => item.trim()).filter((item) => item);
    if (items.length === 0) this.problem(`${name} must name at least one item`);
    return items;
  }

  httpUrl(name: VariableName): string {
    const raw = this.text(name);
    if (!isUrlWithProtocol(raw, ["http:", "https:"])) {
      this.problem(`${name} must be an http(s) URL: current value is "${raw}"`);
    }
    return raw;
  }

  redisUrl(name: VariableName): string | undefined {
    const raw = this.optional(name);
    if (raw !== undefined && !isUrlWithProtocol(raw, ["redis:", "rediss:"])) {
      this.problem(
        `${name} must be a redis:// or rediss:// URL (current value not shown: it may hold a password)`,
      );
    } else if (raw !== undefined) {
      // The path is the database number; anything else would fail later as an uncaught
      // "ERR invalid DB index" reply, or silently select database 0.
      const db = new URL(raw).pathname.slice(1);
      if (db !== "" && !(/^\d{1,5}$/.test(db) && Number(db) <= MAX_REDIS_DB)) {
        this.problem(
          `${name}: the path must be a database number 0..${MAX_REDIS_DB} (e.g. redis://host:6379/0): ` +
            `current path is "/${db.length > 40 ? `${db.slice(0, 40)}…` : db}"`,
        );
      }
    }
    return raw;
  }

  tokenKey(name: VariableName): string | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    try {
      if (atob(raw).length === 32) return raw;
    } catch { /* reported below */ }
    this.problem(
      `${name} must be 32 random bytes in base64 (generate one: openssl rand -base64 32)`,
    );
    return undefined;
  }
}

/**
 * Highest database number accepted in `REDIS_URL`. Redis has 16 databases
 * (0..15) unless its `databases` setting says more; Redis Cluster has only 0.
 */
export const MAX_REDIS_DB = 15;

function isUrlWithProtocol(raw: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(raw).protocol);
  } catch {
    return false;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
