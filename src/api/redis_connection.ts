/**
 * The public face of a Redis connection: an opaque {@link RedisConnection}
 * that the public functions accept, so library users never see ioredis'
 * types (which change between its releases). Inside `src/`, code keeps using
 * the ioredis client; {@link redisClientOf} unwraps a handle.
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";
import type { RedisConfig } from "../config/config.ts";
import { InvalidArgumentError } from "../errors.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { closeRedis as closeClient, connectRedis as connectClient } from "../redis/connection.ts";

/**
 * An open connection to Redis made by {@link connectRedis}. Opaque: pass it to
 * the functions of this module and close it with {@link closeRedis}.
 */
export interface RedisConnection {
  /** The connection's name, as shown by `CLIENT LIST` (e.g. `ingest:library`). */
  readonly name: string;
}

/** Options of {@link connectRedis}. */
export interface RedisConnectOptions {
  /** Shown in `CLIENT LIST` and logs. Default `ingest:library`. */
  readonly name?: string;
  /** Logs connection trouble. Default: JSON logs at `warn` on stderr. */
  readonly logger?: Logger;
  /** How long the first connection may take, in ms. Default 5000. */
  readonly connectTimeoutMs?: number;
}

const clients = new WeakMap<RedisConnection, RedisClient>();

/** Wraps an ioredis client as a {@link RedisConnection} (for the CLI and tests). */
export function wrapRedis(client: RedisClient, name: string): RedisConnection {
  const connection: RedisConnection = Object.freeze({ name });
  clients.set(connection, client);
  return connection;
}

/** The ioredis client behind `connection`; throws when it was not made by this module. */
export function redisClientOf(connection: RedisConnection): RedisClient {
  const client = clients.get(connection);
  if (client === undefined) {
    throw new InvalidArgumentError(
      "Cannot use this Redis connection: it was not made by connectRedis()",
    );
  }
  return client;
}

/**
 * Connects to the Redis of `config` (`REDIS_URL`, or host/port, TLS CA) and
 * waits until it answers. Throws a `RedisError` with code `REDIS_UNREACHABLE`
 * when it does not within `connectTimeoutMs`.
 *
 * @example
 * ```ts
 * import { closeRedis, connectRedis, loadConfig } from "./mod.ts";
 * const config = loadConfig({ env: Deno.env.toObject() });
 * const redis = await connectRedis(config.redis, { name: "ingest:example" });
 * await closeRedis(redis);
 * ```
 */
export async function connectRedis(
  config: RedisConfig,
  options: RedisConnectOptions = {},
): Promise<RedisConnection> {
  const name = options.name ?? "ingest:library";
  const logger = options.logger ?? createLogger({ level: "warn", format: "json" });
  const client = await connectClient(config, {
    name,
    logger,
    connectTimeoutMs: options.connectTimeoutMs,
  });
  return wrapRedis(client, name);
}

/** Closes a connection politely (QUIT), falling back to a hard disconnect. */
export async function closeRedis(connection: RedisConnection): Promise<void> {
  await closeClient(redisClientOf(connection));
}
