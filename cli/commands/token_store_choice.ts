/**
 * The token store of a command: `TOKEN_STORE=file` (GOOGLE_TOKEN_FILE) or
 * `redis` (over the command's Redis connection, closed with the app).
 *
 * @module
 */

import { configuredTokenStore } from "../../src/auth/token_store_choice.ts";
import type { TokenStore } from "../../src/auth/token_store.ts";
import type { Config } from "../../src/config/config.ts";
import { describeError } from "../../src/errors.ts";
import type { App } from "../app.ts";

/** The configured token store; connects to Redis only for `TOKEN_STORE=redis`. */
export async function tokenStoreOf(app: App, config: Config): Promise<TokenStore> {
  if (config.google.tokenStore === "file") return configuredTokenStore(config);
  return configuredTokenStore(config, await app.redis(config, "ingest:tokens"));
}

/** After registering an oauth2 account: a note when its token is not stored yet. */
export async function warnIfNoToken(app: App, config: Config, account: string): Promise<void> {
  try {
    const store = await tokenStoreOf(app, config);
    if (await store.load(account) !== undefined) return;
    app.runtime.stderr(
      `note: no OAuth2 token is stored for ${account} in ${store.path} yet: ` +
        `run ingest auth setup --account ${account}\n`,
    );
  } catch (error) {
    app.runtime.stderr(
      `note: could not check the OAuth2 token of ${account} (${describeError(error)})\n`,
    );
  }
}

/**
 * The store `ingest doctor` checks: `undefined` for the file (its default);
 * for `TOKEN_STORE=redis` the Redis store, or, when Redis cannot be reached,
 * a store whose every call fails with that error, so the token checks report
 * it instead of the doctor stopping.
 */
export async function doctorTokenStore(
  app: App,
  config: Config,
): Promise<TokenStore | undefined> {
  if (config.google.tokenStore === "file") return undefined;
  try {
    return await tokenStoreOf(app, config);
  } catch (error) {
    const fail = () => Promise.reject(error);
    return {
      path: "redis (TOKEN_STORE=redis)",
      keyConfigured: config.google.tokenKey !== undefined,
      load: fail,
      list: fail,
      save: fail,
      update: fail,
      remove: fail,
      status: fail,
    };
  }
}
