/**
 * Every tunable `ingest` reads, one row each: environment name, the flag that
 * overrides it (when there is one), default, bounds and help. This table is
 * the single source for the loader (src/config/config.ts validates every row
 * by its kind and bounds), the commands' flags (cli/setting_option.ts builds
 * them from the rows), `.env.example` and the README's configuration table
 * (`deno task docs`; a test keeps them in step).
 *
 * This file is a declarative table and may exceed the 350-line file limit.
 * // size: declarative table
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

/** One setting: an environment variable, and the flag that overrides it. */
export interface VariableSpec {
  /** Environment name, e.g. `REDIS_PORT`. */
  readonly name: string;
  /** Default as written in a `.env` file; `""` means "unset". */
  readonly default: string;
  /** What it controls, one sentence. */
  readonly description: string;
  /** Heading it is grouped under in docs. */
  readonly group:
    | "Redis"
    | "IMAP"
    | "OAuth2"
    | "Producer"
    | "Worker"
    | "Observability"
    | "Logging"
    | "Doctor";
  /** A secret: never printed back. */
  readonly secret?: boolean;
  /**
   * How the loader checks the value: `integer` (whole number), `seconds`
   * (a number of seconds, fractions allowed), within {@link min}..{@link max}.
   * Other rows are text read by the loader's own rule (URL, choice, list).
   */
  readonly kind?: "integer" | "seconds";
  /** Smallest accepted value (inclusive), for `integer` and `seconds`. */
  readonly min?: number;
  /** Largest accepted value (inclusive), for `integer` and `seconds`; default: no bound. */
  readonly max?: number;
  /**
   * The command-line flag that overrides the variable, in commander's usage
   * form (`--lease-ttl <seconds>`); the same flag on every command that has it.
   */
  readonly flag?: string;
  /** The commands that have {@link flag}, for the docs (e.g. `work`, `auth setup`). */
  readonly commands?: readonly string[];
}

/** All variables, in documentation order. */
export const VARIABLES = [
  {
    group: "Redis",
    name: "REDIS_URL",
    default: "",
    description:
      "redis:// or rediss:// URL with optional ACL user and password; overrides REDIS_HOST/REDIS_PORT.",
    secret: true,
  },
  { group: "Redis", name: "REDIS_HOST", default: "localhost", description: "Redis host." },
  {
    group: "Redis",
    name: "REDIS_PORT",
    default: "6379",
    description: "Redis port.",
    kind: "integer",
    min: 1,
    max: 65_535,
  },
  {
    group: "Redis",
    name: "REDIS_PASSWORD",
    default: "",
    description: "Redis password (AUTH), when not given in REDIS_URL.",
    secret: true,
  },
  {
    group: "Redis",
    name: "REDIS_TLS_CA",
    default: "",
    description:
      "PEM file of the CA that signed the Redis server's certificate (rediss://); default: system CAs.",
  },
  {
    group: "Redis",
    name: "REDIS_STREAM_NAME",
    default: "email_ingestion_stream",
    description: "Stream the producer writes and workers read.",
    flag: "--stream <name>",
    commands: ["stream inspect", "metrics serve"],
  },
  {
    group: "Redis",
    name: "REDIS_DLQ_STREAM_NAME",
    default: "",
    description: "Dead-letter stream; empty means <REDIS_STREAM_NAME>:dlq.",
  },
  {
    group: "Redis",
    name: "REDIS_MAX_STREAM_LENGTH",
    default: "10000",
    description:
      "Retention target: acknowledged entries beyond this many are trimmed; unacknowledged entries are never trimmed.",
    kind: "integer",
    min: 1,
  },
  {
    group: "Redis",
    name: "REDIS_CLUSTER_NODES",
    default: "",
    description:
      "Redis Cluster seed nodes host:port,host:port; set: cluster mode (REDIS_URL then gives only scheme, ACL user and password).",
  },
  {
    group: "Redis",
    name: "STREAM_PARTITIONS",
    default: "1",
    description:
      "Stream partitions: 1 keeps the seed's key names; N > 1 writes N streams <stream>:{p<i>}, one per account hash (fixed per deployment).",
    kind: "integer",
    min: 1,
    max: 1_024,
  },
  {
    group: "Redis",
    name: "REDIS_WAIT_REPLICAS",
    default: "0",
    description:
      "Replicas that must confirm each producer commit (WAIT) before it counts; 0: asynchronous replication.",
    kind: "integer",
    min: 0,
    max: 16,
  },
  {
    group: "Redis",
    name: "REDIS_WAIT_TIMEOUT_SECONDS",
    default: "1",
    description: "How long a commit waits for REDIS_WAIT_REPLICAS confirmations before it fails.",
    kind: "seconds",
    min: 0.01,
    max: 60,
  },
  { group: "IMAP", name: "IMAP_HOST", default: "imap.gmail.com", description: "IMAP server host." },
  {
    group: "IMAP",
    name: "IMAP_PORT",
    default: "993",
    description: "IMAP server port.",
    kind: "integer",
    min: 1,
    max: 65_535,
  },
  {
    group: "IMAP",
    name: "IMAP_TLS",
    default: "true",
    description:
      "Use implicit TLS; set false only for a local test server. A server certificate signed by a private CA: start ingest with DENO_CERT=/path/to/ca.pem.",
  },
  {
    group: "IMAP",
    name: "IMAP_USER",
    default: "",
    description: "Account address (--account; the seed's --username is an alias).",
  },
  {
    group: "IMAP",
    name: "IMAP_AUTH",
    default: "oauth2",
    description: "Login method: oauth2 (XOAUTH2/OAUTHBEARER, Gmail) or password.",
  },
  {
    group: "IMAP",
    name: "IMAP_PASSWORD",
    default: "",
    description: "Password or app password when IMAP_AUTH=password.",
    secret: true,
  },
  {
    group: "IMAP",
    name: "IMAP_MAILBOX",
    default: "INBOX",
    description: "Mailbox(es) to follow, comma-separated.",
  },
  {
    group: "IMAP",
    name: "IMAP_COMMAND_TIMEOUT_SECONDS",
    default: "30",
    description:
      "Seconds the server may stay silent while a command waits for its answer before the connection is declared dead and reopened.",
    kind: "integer",
    min: 1,
    max: 3600,
  },
  {
    group: "IMAP",
    name: "IMAP_IDLE_CHECK_SECONDS",
    default: "120",
    description:
      "Longest IDLE before a NOOP checks that the connection is alive (Gmail drops IDLE after 29 minutes).",
    kind: "integer",
    min: 1,
    max: 1740,
  },
  {
    group: "OAuth2",
    name: "GOOGLE_CLIENT_ID",
    default: "",
    description: "OAuth client id of a Desktop app in Google Cloud.",
  },
  {
    group: "OAuth2",
    name: "GOOGLE_CLIENT_SECRET",
    default: "",
    description: "OAuth client secret of that client.",
    secret: true,
  },
  {
    group: "OAuth2",
    name: "GOOGLE_TOKEN_FILE",
    default: "tokens/gmail_token.json",
    description: "Token store file (mode 0600, several accounts per file).",
  },
  {
    group: "OAuth2",
    name: "TOKEN_STORE",
    default: "file",
    description:
      "Where OAuth2 tokens live: file (GOOGLE_TOKEN_FILE, one machine) or redis (sealed under INGEST_TOKEN_KEY, shared by a fleet).",
  },
  {
    group: "OAuth2",
    name: "INGEST_TOKEN_KEY",
    default: "",
    description:
      "32 random bytes, base64: encrypts the token file with AES-256-GCM. Generate: openssl rand -base64 32",
    secret: true,
  },
  {
    group: "OAuth2",
    name: "GOOGLE_OAUTH_AUTH_URL",
    default: "https://accounts.google.com/o/oauth2/v2/auth",
    description: "Authorization endpoint.",
  },
  {
    group: "OAuth2",
    name: "GOOGLE_OAUTH_TOKEN_URL",
    default: "https://oauth2.googleapis.com/token",
    description: "Token endpoint.",
  },
  {
    group: "OAuth2",
    name: "GOOGLE_OAUTH_REVOKE_URL",
    default: "https://oauth2.googleapis.com/revoke",
    description: "Revocation endpoint.",
  },
  {
    group: "OAuth2",
    name: "GOOGLE_OAUTH_USERINFO_URL",
    default: "https://openidconnect.googleapis.com/v1/userinfo",
    description: "Userinfo endpoint (finds the account's address).",
  },
  {
    group: "OAuth2",
    name: "AUTH_SETUP_TIMEOUT_SECONDS",
    default: "300",
    description: "How long `ingest auth setup` waits for consent in the browser.",
    kind: "integer",
    min: 1,
    flag: "--timeout <seconds>",
    commands: ["auth setup"],
  },
  {
    group: "Producer",
    name: "POLL_INTERVAL_SECONDS",
    default: "60",
    description: "Seconds between polls when IDLE is off or unavailable.",
    kind: "integer",
    min: 1,
    flag: "--poll-interval <seconds>",
    commands: ["produce"],
  },
  {
    group: "Producer",
    name: "BATCH_SIZE",
    default: "50",
    description: "Messages fetched and committed per batch.",
    kind: "integer",
    min: 1,
    max: 10_000,
    flag: "--batch-size <n>",
    commands: ["produce"],
  },
  {
    group: "Producer",
    name: "EVENTS",
    default: "new",
    description:
      "Entries published, comma-separated: new (email entries), updated (message_updated on flag/label changes), deleted (message_deleted on expunges).",
    flag: "--events <list>",
    commands: ["produce"],
  },
  {
    group: "Producer",
    name: "EVENTS_RESCAN_LIMIT",
    default: "10000",
    description:
      "Servers without CONDSTORE: the newest known messages whose flags are read again each round to find changes (older ones are not watched).",
    kind: "integer",
    min: 1,
    max: 10_000_000,
  },
  {
    group: "Producer",
    name: "MAX_MESSAGE_BYTES",
    default: "26214400",
    description:
      "Messages larger than this are published without their body (headers and structure only).",
    kind: "integer",
    min: 1024,
    flag: "--max-message-bytes <n>",
    commands: ["produce"],
  },
  {
    group: "Producer",
    name: "BODY_TEXT_CHARS",
    default: "2000",
    description: "Characters of the text body kept in the payload.",
    kind: "integer",
    min: 0,
  },
  {
    group: "Producer",
    name: "BODY_HTML_CHARS",
    default: "500",
    description: "Characters of the HTML body kept in the payload.",
    kind: "integer",
    min: 0,
  },
  {
    group: "Producer",
    name: "STREAM_BACKLOG_LIMIT",
    default: "100000",
    description: "The producer pauses while more entries than this wait unacknowledged.",
    kind: "integer",
    min: 1,
  },
  {
    group: "Producer",
    name: "IMAP_DAILY_DOWNLOAD_MB",
    default: "2000",
    description:
      "Per account: history backfill pauses once the last 24 h of downloads reach this (Gmail suspends IMAP at about 2,500 MB/day); live mail keeps flowing.",
    kind: "integer",
    min: 1,
  },
  {
    group: "Producer",
    name: "PRODUCER_LEASE_TTL_SECONDS",
    default: "30",
    description:
      "Lifetime of the single-producer lease per mailbox; a standby producer takes over after it.",
    kind: "integer",
    min: 2,
    flag: "--lease-ttl <seconds>",
    commands: ["produce"],
  },
  {
    group: "Producer",
    name: "FLEET_MAX_ACCOUNTS",
    default: "1000",
    description:
      "With produce --fleet: most registry accounts one process follows (its fair share is at most this).",
    kind: "integer",
    min: 1,
    flag: "--max-accounts <n>",
    commands: ["produce"],
  },
  {
    group: "Worker",
    name: "WORKER_GROUP",
    default: "email_workers",
    description: "Consumer group of `ingest work`.",
    flag: "--group <name>",
    commands: ["work"],
  },
  {
    group: "Worker",
    name: "WORKER_SINK",
    default: "",
    description:
      "Where `ingest work` delivers entries: file:PATH, webhook:URL, exec:COMMAND, module:PATH or stdout; required (no default), since a worker acknowledges what it delivers.",
    flag: "--sink <spec>",
    commands: ["work"],
  },
  {
    group: "Worker",
    name: "WORKER_CONCURRENCY",
    default: "8",
    description: "Entries one `ingest work` process handles at once.",
    kind: "integer",
    min: 1,
    max: 1000,
    flag: "--concurrency <n>",
    commands: ["work"],
  },
  {
    group: "Worker",
    name: "WORKER_READ_AHEAD",
    default: "0",
    description:
      "Entries `ingest work` reads ahead of its sink calls: read, decoded and checked while earlier ones are in the sink (the file sink's fdatasync), so throughput grows; a crash then leaves up to WORKER_CONCURRENCY + this many entries pending, each counted as a delivery toward WORKER_MAX_ATTEMPTS. 0: read only when a sink call is free.",
    kind: "integer",
    min: 0,
    max: 1000,
    flag: "--read-ahead <n>",
    commands: ["work"],
  },
  {
    group: "Worker",
    name: "WORKER_MAX_ATTEMPTS",
    default: "5",
    description: "Attempts before an entry goes to the dead-letter queue.",
    kind: "integer",
    min: 1,
    max: 1000,
    flag: "--max-attempts <n>",
    commands: ["work"],
  },
  {
    group: "Worker",
    name: "WORKER_BACKOFF_BASE_MS",
    default: "1000",
    description: "First retry delay; doubles each attempt, with jitter.",
    kind: "integer",
    min: 1,
  },
  {
    group: "Worker",
    name: "WORKER_BACKOFF_CAP_MS",
    default: "300000",
    description: "Longest retry delay.",
    kind: "integer",
    min: 1,
  },
  {
    group: "Worker",
    name: "PROCESSED_TTL_SECONDS",
    default: "604800",
    description: "How long a processed-record is kept (idempotency window, 7 days).",
    kind: "integer",
    min: 1,
  },
  {
    group: "Worker",
    name: "WEBHOOK_SECRET",
    default: "",
    description: "HMAC-SHA256 key that signs webhook bodies (X-Ingest-Signature).",
    secret: true,
  },
  {
    group: "Worker",
    name: "EXEC_SINK_ENV",
    default: "",
    description:
      "Variables (comma-separated) an exec: sink also passes; else only PATH, HOME, LANG, LC_*, TZ, INGEST_*.",
  },
  {
    group: "Worker",
    name: "FILE_SINK_PAGE_CACHE",
    default: "drop",
    description:
      "drop: a file: sink lets Linux drop its lines' cached pages once synced (needs --allow-ffi); keep: they stay cached, for a reader tailing the file.",
  },
  {
    group: "Worker",
    name: "WORKER_SHUTDOWN_TIMEOUT_SECONDS",
    default: "30",
    description: "On SIGINT/SIGTERM, how long in-flight handlers may finish.",
    kind: "seconds",
    min: 0,
    flag: "--shutdown-timeout <seconds>",
    commands: ["work"],
  },
  {
    group: "Worker",
    name: "WORKER_VISIBILITY_TIMEOUT_SECONDS",
    default: "60",
    description: "An entry pending this long on another consumer is taken over.",
    kind: "seconds",
    min: 0.1,
    flag: "--visibility-timeout <seconds>",
    commands: ["work"],
  },
  {
    group: "Worker",
    name: "WORKER_CONSUMER_IDLE_TIMEOUT_SECONDS",
    default: "3600",
    description: "Consumers idle this long with nothing pending are removed from the group.",
    kind: "seconds",
    min: 1,
    flag: "--consumer-idle-timeout <seconds>",
    commands: ["work"],
  },
  {
    group: "Worker",
    name: "GROUP_ORPHAN_SECONDS",
    default: "3600",
    description:
      "A consumer group with no consumer active this long while older entries wait for it is reported as orphaned (stream inspect, group list, doctor): it blocks trimming and its backlog pauses the producer.",
    kind: "seconds",
    min: 1,
    flag: "--orphan-after <seconds>",
    commands: ["stream inspect", "group list", "doctor"],
  },
  {
    group: "Observability",
    name: "ACCOUNT_ALIAS",
    default: "",
    description:
      "Label used for the account in metrics instead of its address; default acct- plus a 12-hex-digit hash of the address.",
  },
  {
    group: "Observability",
    name: "HEALTH_HOST",
    default: "127.0.0.1",
    description: "Address of the /health /ready /status /metrics server.",
    flag: "--health-host <address>",
    commands: ["produce", "work"],
  },
  {
    group: "Observability",
    name: "HEALTH_PORT",
    default: "8080",
    description: "Port of that server; 0 disables it.",
    kind: "integer",
    min: 0,
    max: 65_535,
    flag: "--health-port <port>",
    commands: ["produce", "work"],
  },
  {
    group: "Logging",
    name: "LOG_LEVEL",
    default: "info",
    description: "debug, info, warn or error.",
    flag: "--log-level <level>",
    commands: ["every command"],
  },
  {
    group: "Logging",
    name: "LOG_FORMAT",
    default: "auto",
    description: "json, pretty, or auto (pretty on a terminal, json otherwise).",
    flag: "--log-format <format>",
    commands: ["every command"],
  },
  {
    group: "Doctor",
    name: "DOCTOR_TIMEOUT_SECONDS",
    default: "10",
    description: "Bound on each connection and command of `ingest doctor`.",
    kind: "seconds",
    min: 0.001,
    max: 300,
    flag: "--timeout <seconds>",
    commands: ["doctor"],
  },
] as const satisfies readonly VariableSpec[];

/** Name of any known variable. */
export type VariableName = (typeof VARIABLES)[number]["name"];

/**
 * The default of a numeric setting, for core functions called without it
 * (library use): the table stays the one place a default is written.
 */
export function numericDefault(name: VariableName): number {
  const value = Number(variableSpec(name).default);
  if (!Number.isFinite(value)) throw new InvalidArgumentError(`${name} has no numeric default`);
  return value;
}

/** The spec of one variable. */
export function variableSpec(name: VariableName): VariableSpec {
  const spec = VARIABLES.find((v) => v.name === name);
  if (!spec) throw new InvalidArgumentError(`unknown variable ${name}`);
  return spec;
}
