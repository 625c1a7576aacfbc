/**
 * `ingest`: Gmail over IMAP (OAuth2) into Redis Streams, processed by workers.
 *
 * This module is the typed public API of the core; the `ingest` command line
 * (`cli/main.ts`) is a thin layer over it. Everything a command does can be
 * done from code: follow mailboxes with {@link startProducer}, process the
 * stream with {@link startWorker} and a {@link Sink}, read and reset the
 * producer's cursors, manage the dead-letter queue, and serve metrics and
 * health endpoints. Redis and Prometheus stay behind the project's own
 * {@link RedisConnection} and {@link MetricsRegistry}; every error is an
 * {@link IngestError} with a code from {@link ERROR_CODES}.
 *
 * @example Inspect the stream
 * ```ts
 * import { connectRedis, inspectStream, loadConfig } from "./mod.ts";
 * const config = loadConfig({ env: Deno.env.toObject() });
 * const redis = await connectRedis(config.redis, { name: "example" });
 * console.log(await inspectStream(redis, {
 *   stream: config.redis.streamName,
 *   dlqStream: config.redis.dlqStreamName,
 * }));
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

// Configuration and logging.
export {
  type Config,
  type ConfigSources,
  type DoctorConfig,
  type GoogleConfig,
  type ImapConfig,
  loadConfig,
  type LogConfig,
  type ObservabilityConfig,
  type ProducerConfig,
  type RedisConfig,
  type RedisNodeAddress,
  type Settings,
  type WorkerConfig,
} from "./src/config/config.ts";
export { type VariableName, VARIABLES } from "./src/config/variables.ts";
export {
  createLogger,
  type LogFields,
  type LogFormat,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from "./src/log/logger.ts";
export { VERSION } from "./src/version.ts";

// Errors and their codes (docs/ERRORS.md).
export {
  AuthError,
  ConfigError,
  describeError,
  ERROR_CODES,
  type ErrorCode,
  ImapError,
  IngestError,
  type IngestErrorOptions,
  InvalidArgumentError,
  isErrorCode,
  isRetryable,
  PermanentError,
  RedisError,
  RetryableError,
  UsageError,
} from "./src/errors.ts";
export { EntryFormatError } from "./src/stream/entry.ts";

// Redis.
export {
  closeRedis,
  connectRedis,
  type RedisConnection,
  type RedisConnectOptions,
} from "./src/api/redis_connection.ts";

// The stream payload.
export {
  type AttachmentInfo,
  type DecodedEntry,
  decodeEntry,
  type EmailPayload,
  type EntryPayload,
  type EntryType,
  type GmailInfo,
  idempotencyKey,
  type MailboxResetPayload,
  type MessageChange,
  type MessageDeletedPayload,
  type MessageIdentity,
  type MessageUpdatedPayload,
  SCHEMA_VERSION,
} from "./src/stream/entry.ts";

// Producer: IMAP -> stream.
export { type ProducerOptions, startProducer } from "./src/api/producer.ts";
export type {
  ProducerHandle,
  ProducerReadiness,
  ProducerResult,
  ProducerStatus,
  ProducerStatusView,
} from "./src/producer/producer.ts";
export { parseStartPosition, type StartPosition } from "./src/producer/start_position.ts";
export type { FollowerOutcome } from "./src/producer/mailbox_supervisor.ts";
export type { MailboxCheck } from "./src/producer/readiness.ts";
export type { MailboxStatusView } from "./src/producer/mailbox_status_view.ts";
export type {
  BackfillLaneStatus,
  FollowerState,
  MailboxStatus,
} from "./src/producer/mailbox_status.ts";
export {
  type CredentialsProvider,
  type CredentialsRequest,
  type ImapCredentials,
  passwordCredentials,
} from "./src/imap/credentials.ts";
export { credentialsFor } from "./src/auth/token_provider.ts";
export type { StoredToken, TokenFileStatus, TokenStore } from "./src/auth/token_store.ts";

// Worker: stream -> sink.
export {
  type PartitionedWorkerOptions,
  runWorker,
  startPartitionedWorker,
  startWorker,
  type WorkerOptions,
} from "./src/api/worker.ts";
export type {
  PartitionedWorkerHandle,
  PartitionedWorkerStatus,
  PartitionWorkerStatus,
} from "./src/worker/partition_readers.ts";
export {
  type PartitionedStreamNames,
  type StreamPartition,
  streamPartitionsOf,
} from "./src/stream/partition_set.ts";
export type {
  WorkerCheck,
  WorkerCounts,
  WorkerHandle,
  WorkerReadiness,
  WorkerState,
  WorkerStatus,
  WorkerSummary,
} from "./src/worker/worker.ts";
export type { WorkerCountsView } from "./src/worker/worker_types.ts";
export {
  type Delivery,
  type DeliveryDocument,
  isPermanentFailure,
  type Sink,
} from "./src/sinks/sink.ts";
export { openSink, type OpenSinkOptions, parseSinkSpec, type SinkSpec } from "./src/sinks/spec.ts";
export type { FileSinkPageCache } from "./src/sinks/file_sink.ts";

// Producer state and the stream.
export { inspectStream, listCursors, readCursor, resetCursor } from "./src/api/state.ts";
export type { Cursor, CursorReset } from "./src/state/cursor.ts";
export type { Backfill, BackfillState } from "./src/state/backfill.ts";
export type { MailboxRef } from "./src/redis/keys.ts";
export {
  mailboxRef,
  partitionOf,
  partitionStream,
  partitionStreams,
} from "./src/redis/partitions.ts";
export type {
  ConsumerReport,
  EntryReport,
  GroupReport,
  InspectOptions,
  PartitionReport,
  StreamReport,
} from "./src/stream/inspect.ts";
export type { EntryCounts } from "./src/stream/entry_counts.ts";

// The dead-letter queue.
export {
  allDeadLetterIds,
  listDeadLetters,
  purgeAllDeadLetters,
  purgeDeadLetters,
  readDeadLetters,
  replayDeadLetters,
} from "./src/api/dead_letters.ts";
export type {
  DeadLetterPage,
  DeadLetterPageOptions,
  DeadLetterStreams,
  Replayed,
  ReplayResult,
} from "./src/dlq/dead_letter_queue.ts";
export { DEAD_LETTER_REASONS } from "./src/dlq/dead_letter.ts";
export type { DeadLetter, DeadLetterInfo, DeadLetterReason } from "./src/dlq/dead_letter.ts";

// Observability.
export {
  createMetricsRegistry,
  createProducerMetrics,
  createWorkerMetrics,
  type HealthServer,
  type HealthServerOptions,
  type MetricsRegistry,
  type MetricsRegistryOptions,
  type ProducerMetricsOptions,
  type Readiness,
  startHealthServer,
  type WorkerMetricsOptions,
} from "./src/api/metrics_registry.ts";
export {
  combineObservers,
  type ConnectionState,
  type ProcessOutcome,
  type ProducerObserver,
  type WorkerObserver,
} from "./src/observe/events.ts";
export type { AccountLabelOptions } from "./src/metrics/account_label.ts";
export type { RedisFailureKind } from "./src/redis/redis_failure.ts";
