/**
 * `ingest`: Gmail over IMAP (OAuth2) into Redis Streams, processed by workers.
 *
 * This module is the typed public API of the core; the `ingest` command line
 * (`cli/main.ts`) is a thin layer over it.
 *
 * @example Load the configuration and inspect the stream
 * ```ts
 * import { connectRedis, inspectStream, loadConfig } from "./mod.ts";
 * const config = loadConfig({ env: Deno.env.toObject() });
 * const redis = await connectRedis(config.redis, { name: "example" });
 * console.log(await inspectStream(redis, { stream: config.redis.streamName }));
 * ```
 *
 * @module
 */

export { type Config, type ConfigSources, loadConfig } from "./src/config/config.ts";
export { VARIABLES } from "./src/config/variables.ts";
export {
  AuthError,
  ConfigError,
  describeError,
  ImapError,
  IngestError,
  isRetryable,
  PermanentError,
  RedisError,
  RetryableError,
  UsageError,
} from "./src/errors.ts";
export { createLogger, type Logger, type LogLevel } from "./src/log/logger.ts";
export { closeRedis, connectRedis, type Redis } from "./src/redis/connection.ts";
export { cursorKey, type MailboxRef } from "./src/redis/keys.ts";
export { backoffDelay } from "./src/retry/backoff.ts";
export { type Cursor, listCursors, readCursor, resetCursor } from "./src/state/cursor.ts";
export { inspectStream, type StreamReport } from "./src/stream/inspect.ts";
export {
  type DecodedEntry,
  decodeEntry,
  type EmailPayload,
  idempotencyKey,
  type MailboxResetPayload,
  SCHEMA_VERSION,
} from "./src/stream/entry.ts";
export {
  type CredentialsProvider,
  type ImapCredentials,
  passwordCredentials,
} from "./src/imap/credentials.ts";
export type { ProducerObserver, WorkerObserver } from "./src/observe/events.ts";
export { VERSION } from "./src/version.ts";
