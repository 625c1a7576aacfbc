/**
 * Run a producer from code: follow an account's mailboxes over IMAP and
 * commit each new message to the stream, exactly once.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import type { Logger } from "../log/logger.ts";
import type { ProducerObserver } from "../observe/events.ts";
import { type ProducerHandle, startProducer as start } from "../producer/producer.ts";
import type { StartPosition } from "../producer/start_position.ts";
import type { EmailPayload } from "../stream/entry.ts";
import { redisClientOf, type RedisConnection } from "./redis_connection.ts";

/** Options of {@link startProducer}. */
export interface ProducerOptions {
  /** Uses `imap`, `producer`, `redis` and `worker.group` (see `loadConfig`). */
  readonly config: Config;
  /** The account (IMAP user) whose mailboxes are followed. */
  readonly account: string;
  /** Mailboxes to follow. Default `config.imap.mailboxes`. */
  readonly mailboxes?: readonly string[];
  /** Supplies IMAP credentials: `credentialsFor(config, account, logger)`. */
  readonly credentials: CredentialsProvider;
  /** From `connectRedis`; the caller closes it after `done`. */
  readonly redis: RedisConnection;
  /** Structured logger (never receives addresses or content). */
  readonly logger: Logger;
  /** Metrics and status hooks, e.g. `createProducerMetrics(...)`. Hooks must not throw. */
  readonly observer?: ProducerObserver;
  /** Stops the producer: fetching stops, the lease is released, connections close. */
  readonly signal: AbortSignal;
  /** Sync every mailbox until caught up, then finish. Default false. */
  readonly once?: boolean;
  /** Dry run: each payload goes here instead of Redis, and nothing at all is written. */
  readonly dryRun?: (payload: EmailPayload) => void;
  /** Use IMAP IDLE when offered. Default true. */
  readonly idle?: boolean;
  /** What a mailbox without state ingests first. Default all. */
  readonly start?: StartPosition;
  /** Lease TTL in ms. Default 30000. */
  readonly leaseTtlMs?: number;
  /** Longest wait for mailboxes on shutdown before connections are cut, in ms. Default 7000. */
  readonly shutdownGraceMs?: number;
}

/**
 * Starts following the mailboxes of one account; one lease per mailbox keeps
 * a second producer on standby. Stop it with `signal`; `done` resolves when
 * every mailbox has ended.
 *
 * @example
 * ```ts
 * import { connectRedis, createLogger, credentialsFor, loadConfig, startProducer } from "./mod.ts";
 * const config = loadConfig({ env: Deno.env.toObject() });
 * const logger = createLogger();
 * const account = config.imap.user ?? "";
 * const producer = startProducer({
 *   config,
 *   account,
 *   credentials: credentialsFor(config, account, logger),
 *   redis: await connectRedis(config.redis),
 *   logger,
 *   signal: AbortSignal.timeout(60_000),
 *   once: true,
 * });
 * console.log((await producer.done).ok);
 * ```
 */
export function startProducer(options: ProducerOptions): ProducerHandle {
  return start({ ...options, redis: redisClientOf(options.redis) });
}
