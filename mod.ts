/**
 * `ingest`: Gmail over IMAP (OAuth2) into Redis Streams, processed by workers.
 *
 * This module is the typed public API of the core; the `ingest` command line
 * (`cli/main.ts`) is a thin layer over it. Everything a command does can be
 * done from code: follow mailboxes with {@link startProducer}, process the
 * stream with {@link startWorker} and a {@link Sink}, manage the dead-letter
 * queue, serve metrics and health endpoints, and check a deployment with
 * {@link runDoctor}.
 *
 * @example Inspect the stream
 * ```ts
 * import { connectRedis, inspectStream, loadConfig } from "./mod.ts";
 * const config = loadConfig({ env: Deno.env.toObject() });
 * const redis = await connectRedis(config.redis, { name: "example" });
 * console.log(await inspectStream(redis, { stream: config.redis.streamName }));
 * ```
 *
 * @example A downstream handler for `ingest work --sink module:./handler.ts`
 * ```ts
 * import { type EmailPayload, PermanentError } from "./mod.ts";
 * export async function handle(email: EmailPayload): Promise<void> {
 *   if (email.parse_error) throw new PermanentError("cannot classify an unparsed message");
 *   await fetch("http://127.0.0.1:9000/classify", { method: "POST", body: JSON.stringify(email) });
 * }
 * ```
 *
 * @module
 */

// Configuration, errors, logging.
export {
  type Config,
  type ConfigSources,
  type GoogleConfig,
  type ImapConfig,
  loadConfig,
  type ProducerConfig,
  type RedisConfig,
  type WorkerConfig,
} from "./src/config/config.ts";
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
export { backoffDelay } from "./src/retry/backoff.ts";
export { VERSION } from "./src/version.ts";

// Redis, stream format, producer state.
export { closeRedis, connectRedis, type Redis } from "./src/redis/connection.ts";
export { cursorKey, type MailboxRef } from "./src/redis/keys.ts";
export { type Cursor, listCursors, readCursor, resetCursor } from "./src/state/cursor.ts";
export { inspectStream, type StreamReport } from "./src/stream/inspect.ts";
export {
  type AttachmentInfo,
  type DecodedEntry,
  decodeEntry,
  type EmailPayload,
  EntryFormatError,
  type GmailInfo,
  idempotencyKey,
  type MailboxResetPayload,
  SCHEMA_VERSION,
} from "./src/stream/entry.ts";

// Gmail OAuth2 and IMAP credentials.
export {
  type CredentialsProvider,
  type ImapCredentials,
  passwordCredentials,
} from "./src/imap/credentials.ts";
export {
  createOAuthCredentials,
  credentialsFor,
  type OAuthCredentialsOptions,
  REFRESH_MARGIN_MS,
} from "./src/auth/token_provider.ts";
export {
  openTokenStore,
  type StoredToken,
  type TokenFileStatus,
  type TokenStore,
} from "./src/auth/token_store.ts";
export { describeTokens, type TokenInfo } from "./src/auth/token_info.ts";
export { setupAccount, type SetupOptions, type SetupResult } from "./src/auth/setup.ts";
export { revokeAccount, type RevokeResult } from "./src/auth/revoke.ts";
export { createOAuthClient, GMAIL_SCOPE, type OAuthClient } from "./src/auth/oauth_client.ts";

// Producer: IMAP → stream.
export {
  type ProducerHandle,
  type ProducerOptions,
  type ProducerReadiness,
  type ProducerResult,
  type ProducerStatus,
  startProducer,
} from "./src/producer/producer.ts";
export { parseStartPosition, type StartPosition } from "./src/producer/start_position.ts";
export { buildEmailPayload, type FetchedMessage } from "./src/imap/message_payload.ts";

// Worker: stream → sink, and the dead-letter queue.
export {
  runWorker,
  startWorker,
  type WorkerHandle,
  type WorkerOptions,
  type WorkerReadiness,
  type WorkerStatus,
  type WorkerSummary,
} from "./src/worker/worker.ts";
export {
  type Delivery,
  type DeliveryDocument,
  isPermanentFailure,
  type Sink,
} from "./src/sinks/sink.ts";
export { openSink, parseSinkSpec, type SinkSpec } from "./src/sinks/spec.ts";
export {
  allDeadLetterIds,
  type DeadLetterStreams,
  listDeadLetters,
  purgeAllDeadLetters,
  purgeDeadLetters,
  readDeadLetters,
  replayDeadLetters,
  type ReplayResult,
} from "./src/dlq/dead_letter_queue.ts";
export type { DeadLetter, DeadLetterReason } from "./src/dlq/dead_letter.ts";

// Observability.
export {
  combineObservers,
  type ProducerObserver,
  type WorkerObserver,
} from "./src/observe/events.ts";
export {
  createMetricsRegistry,
  METRIC_PREFIX,
  metricNames,
  type Registry,
} from "./src/metrics/registry.ts";
export { createProducerMetrics } from "./src/metrics/producer.ts";
export { createWorkerMetrics } from "./src/metrics/worker.ts";
export { readRedisSnapshot, registerRedisCollector } from "./src/metrics/redis_collector.ts";
export { GMAIL_DAILY_DOWNLOAD_BYTES, readDownloadedBytes } from "./src/metrics/bandwidth.ts";
export { type HealthServer, type Readiness, startHealthServer } from "./src/health/server.ts";
export { createProgressRenderer, type ProgressRenderer } from "./src/progress/progress_renderer.ts";

// Operations.
export {
  type CheckResult,
  type CheckStatus,
  type DoctorReport,
  runDoctor,
} from "./src/doctor/doctor.ts";

// Types the functions and interfaces above use.
export type { LogConfig, ObservabilityConfig, Settings } from "./src/config/config.ts";
export type { CredentialsRequest } from "./src/imap/credentials.ts";
export type { DeadLetterInfo } from "./src/dlq/dead_letter.ts";
export type { EntryType } from "./src/stream/entry.ts";
export type { BodyNode } from "./src/imap/structure.ts";
export type {
  BuiltPayload,
  Envelope,
  PartBytes,
  PayloadContext,
} from "./src/imap/message_payload.ts";
export type { LogFields, LoggerOptions } from "./src/log/logger.ts";
export type {
  AuthorizationRequest,
  OAuthClientOptions,
  TokenGrant,
} from "./src/auth/oauth_client.ts";
export type { ConnectionState, ProcessOutcome } from "./src/observe/events.ts";
export type { RetryPolicy } from "./src/producer/failure_policy.ts";
export type { FollowerOutcome } from "./src/producer/mailbox_supervisor.ts";
export type { MailboxStatus } from "./src/producer/mailbox_status.ts";
export type { DeadLetterPage, Replayed } from "./src/dlq/dead_letter_queue.ts";
export type { LoopbackFlowOptions } from "./src/auth/loopback_flow.ts";
export type { EntryReport, GroupReport, InspectOptions } from "./src/stream/inspect.ts";
export type { AccountTokenInfo } from "./src/auth/token_info.ts";
export type { WorkerCheck, WorkerCounts, WorkerState } from "./src/worker/worker.ts";
export type { BackoffOptions } from "./src/retry/backoff.ts";
export type { RedisConnectOptions } from "./src/redis/connection.ts";
export type { MetricsRegistryOptions } from "./src/metrics/registry.ts";
export type { ProducerMetricsOptions } from "./src/metrics/producer.ts";
export type { ProgressRendererOptions } from "./src/progress/progress_renderer.ts";
export type { WorkerMetricsOptions } from "./src/metrics/worker.ts";
export type { CursorField } from "./src/redis/keys.ts";
export type { OpenSinkOptions } from "./src/sinks/spec.ts";
export type { TokenStoreOptions } from "./src/auth/token_store.ts";
export type { DownloadedBytesOptions } from "./src/metrics/bandwidth.ts";
export type {
  RedisCollector,
  RedisCollectorOptions,
  RedisSnapshot,
  SnapshotOptions,
} from "./src/metrics/redis_collector.ts";
export type { CursorReset } from "./src/state/cursor.ts";
export type { DoctorOptions } from "./src/doctor/doctor.ts";
export type { HealthServerOptions } from "./src/health/server.ts";
export type { VariableName } from "./src/config/variables.ts";
export type { EnvelopeAddress } from "./src/imap/message_payload.ts";
export type { TextPartRef } from "./src/imap/structure.ts";
export type { WholeMessage } from "./src/imap/full_message.ts";
export type { LogFormat } from "./src/log/logger.ts";
export type { FollowerState } from "./src/producer/mailbox_status.ts";
export type { ConsumerReport } from "./src/stream/inspect.ts";
export type { AccountLabeler, AccountLabelOptions } from "./src/metrics/account_label.ts";
export { CURSOR_FIELDS } from "./src/redis/keys.ts";
