/**
 * The token store `TOKEN_STORE` names: the file at `GOOGLE_TOKEN_FILE`
 * (default, one machine) or the Redis store a fleet shares.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { IngestError } from "../errors.ts";
import type { RedisClient } from "../redis/client.ts";
import { openRedisTokenStore } from "./redis_token_store.ts";
import { openTokenStore, type TokenStore } from "./token_store.ts";

/**
 * The configured token store. `redis` is needed (and used) only for
 * `TOKEN_STORE=redis`; without it that setting is an `INTERNAL` error.
 */
export function configuredTokenStore(config: Config, redis?: RedisClient): TokenStore {
  const google = config.google;
  if (google.tokenStore === "file") {
    return openTokenStore({ path: google.tokenFile, key: google.tokenKey });
  }
  if (redis === undefined) {
    throw new IngestError("INTERNAL", "TOKEN_STORE=redis needs a Redis client", false);
  }
  return openRedisTokenStore({ redis, key: google.tokenKey });
}
