/**
 * OAuth2 credentials for IMAP logins: a {@link CredentialsProvider} that
 * hands out a fresh access token for XOAUTH2/OAUTHBEARER, refreshing it
 * 5 minutes before expiry (or at once when a login failed), coalescing
 * concurrent refreshes into one request and persisting every new token.
 *
 * When the provider answers `invalid_grant` the account is parked: later
 * calls fail at once with the same `reauthRequired` error and no request,
 * until `ingest auth setup` stores a new refresh token.
 *
 * @module
 */

import type { Config, GoogleConfig } from "../config/config.ts";
import { AuthError, ConfigError } from "../errors.ts";
import {
  type CredentialsProvider,
  type CredentialsRequest,
  type ImapCredentials,
  passwordCredentials,
} from "../imap/credentials.ts";
import type { Logger } from "../log/logger.ts";
import type { ProducerObserver } from "../observe/events.ts";
import type { OAuthClient } from "./oauth_client.ts";
import { oauthClientProblems } from "./oauth_settings.ts";
import { KEY_GENERATION_HINT } from "./token_crypto.ts";
import { openTokenStore, type StoredToken, type TokenStore } from "./token_store.ts";

/** Access tokens are refreshed this long before they expire (the seed's buffer). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * A forced refresh right after a refresh is skipped: several sessions of one
 * account failing with the same old token should cause one refresh, not one each.
 */
export const FORCED_REFRESH_DEBOUNCE_MS = 10_000;

/** Options of {@link createOAuthCredentials}. */
export interface OAuthCredentialsOptions {
  /** Uses `config.google` (client, endpoints, token file and key). */
  config: Config;
  /** The account address, as stored by `ingest auth setup`. */
  account: string;
  /** Structured logger. */
  logger: Logger;
  /** Told about every refresh request (`tokenRefresh`). */
  observer?: Pick<ProducerObserver, "tokenRefresh">;
  /** Token store; default: the file at `config.google.tokenFile`. */
  store?: TokenStore;
  /** OAuth client; default: google-auth-library against `config.google`'s endpoints. */
  client?: OAuthClient;
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * Whether `token`'s access token must be refreshed before use at `now`:
 * missing, without an expiry, or expiring within `marginMs`.
 */
export function needsRefresh(
  token: Pick<StoredToken, "accessToken" | "expiresAt">,
  now: number,
  marginMs = REFRESH_MARGIN_MS,
): boolean {
  if (token.accessToken === undefined || token.expiresAt === undefined) return true;
  return token.expiresAt - now <= marginMs;
}

/** The message and error when an account needs a new consent. */
export function reauthError(account: string, reason: string, cause?: unknown): AuthError {
  return new AuthError(
    "REAUTH_REQUIRED",
    `${reason}. Run: ingest auth setup --account ${account}`,
    { cause, reauthRequired: true },
  );
}

/**
 * The credentials the producer uses for `account`: the constant password when
 * `IMAP_AUTH=password`, otherwise {@link createOAuthCredentials} over `store`
 * (default: the token file; `TOKEN_STORE=redis` passes the Redis store).
 */
export function credentialsFor(
  config: Config,
  account: string,
  logger: Logger,
  observer?: Pick<ProducerObserver, "tokenRefresh">,
  store?: TokenStore,
): CredentialsProvider {
  if (config.imap.auth === "password") {
    // loadConfig guarantees a password when IMAP_AUTH=password.
    return passwordCredentials(account, config.imap.password ?? "");
  }
  return createOAuthCredentials({ config, account, logger, observer, store });
}

/**
 * OAuth2 credentials of one account. Throws a `ConfigError` at once when the
 * OAuth client id or secret is missing. `get()` throws an {@link AuthError}:
 * `reauthRequired` for a missing, revoked or expired grant; `retryable` when
 * the provider cannot be reached; neither for an unreadable token file.
 */
export function createOAuthCredentials(options: OAuthCredentialsOptions): CredentialsProvider {
  const google = options.config.google;
  const client = options.client ?? deferredOAuthClient(google);
  const store = options.store ?? openTokenStore({ path: google.tokenFile, key: google.tokenKey });
  return new OAuthCredentials(options, client, store);
}

/** The one call {@link OAuthCredentials} makes to the provider. */
type Refresher = Pick<OAuthClient, "refresh">;

/**
 * google-auth-library's client, loaded at the first refresh: a run whose
 * stored access token is still fresh does not load it. The missing-settings
 * check runs at once, as `createOAuthClient` would.
 */
function deferredOAuthClient(google: GoogleConfig): Refresher {
  const problems = oauthClientProblems(google);
  if (problems.length > 0) throw new ConfigError(problems);
  let client: Promise<OAuthClient> | undefined;
  return {
    async refresh(refreshToken) {
      client ??= import("./oauth_client.ts").then((m) => m.createOAuthClient(google));
      return (await client).refresh(refreshToken);
    },
  };
}

interface Pending {
  refreshing: boolean;
  promise: Promise<ImapCredentials>;
}

class OAuthCredentials implements CredentialsProvider {
  readonly account: string;
  readonly #client: Refresher;
  readonly #store: TokenStore;
  readonly #logger: Logger;
  readonly #observer: Pick<ProducerObserver, "tokenRefresh">;
  readonly #now: () => number;
  #token: StoredToken | undefined;
  #pending: Pending | undefined;
  #lastRefreshAt: number | undefined;
  #warnedPlain = false;
  /** Set after `invalid_grant`: the refused refresh token and the error to repeat. */
  #parked: { refreshToken: string | undefined; error: AuthError } | undefined;

  constructor(options: OAuthCredentialsOptions, client: Refresher, store: TokenStore) {
    this.account = options.account;
    this.#client = client;
    this.#store = store;
    this.#logger = options.logger;
    this.#observer = options.observer ?? {};
    this.#now = options.now ?? Date.now;
  }

  get(request: CredentialsRequest = {}): Promise<ImapCredentials> {
    const force = request.forceRefresh === true;
    const pending = this.#pending;
    // Join a running call unless it may answer with the token that just failed.
    if (pending && (!force || pending.refreshing)) return pending.promise;
    const entry: Pending = { refreshing: force, promise: Promise.resolve(null as never) };
    const previous = pending?.promise.catch(() => {}) ?? Promise.resolve();
    entry.promise = previous
      .then(() => this.#resolve(force, entry))
      .finally(() => {
        if (this.#pending === entry) this.#pending = undefined;
      });
    this.#pending = entry;
    return entry.promise;
  }

  async #resolve(force: boolean, entry: Pending): Promise<ImapCredentials> {
    let token = await this.#current();
    if (this.#parked) {
      if (token.refreshToken === this.#parked.refreshToken) throw this.#parked.error;
      this.#parked = undefined; // a new consent was stored meanwhile
    }
    const now = this.#now();
    const justRefreshed = this.#lastRefreshAt !== undefined &&
      now - this.#lastRefreshAt < FORCED_REFRESH_DEBOUNCE_MS;
    if (!needsRefresh(token, now) && (!force || justRefreshed)) {
      return { user: this.account, accessToken: token.accessToken! };
    }
    entry.refreshing = true;
    token = await this.#refreshShared(token);
    return { user: this.account, accessToken: token.accessToken! };
  }

  /**
   * Refreshes under the store's cross-process lock when it has one: a process
   * that waited for the lock first reads the token again and uses the one
   * another process just stored, unless that is the token that failed.
   */
  #refreshShared(token: StoredToken): Promise<StoredToken> {
    if (this.#store.withRefreshLock === undefined) return this.#refresh(token);
    return this.#store.withRefreshLock(this.account, async () => {
      const stored = await this.#store.load(this.account);
      if (
        stored !== undefined && stored.accessToken !== token.accessToken &&
        !needsRefresh(stored, this.#now())
      ) {
        this.#token = stored;
        return stored;
      }
      return this.#refresh(stored ?? token);
    });
  }

  /** The cached token, or the stored one (read again while parked, to notice a new setup). */
  async #current(): Promise<StoredToken> {
    if (this.#token === undefined || this.#parked !== undefined) {
      const stored = await this.#store.load(this.account);
      if (stored === undefined) {
        throw reauthError(
          this.account,
          `No OAuth2 token is stored for ${this.account} in ${this.#store.path}`,
        );
      }
      this.#token = stored;
      this.#warnIfPlain();
    }
    return this.#token;
  }

  #warnIfPlain(): void {
    if (this.#warnedPlain || this.#store.keyConfigured) return;
    this.#warnedPlain = true;
    this.#logger.warn("token file is not encrypted: set INGEST_TOKEN_KEY", {
      tokenFile: this.#store.path,
      hint: KEY_GENERATION_HINT,
    });
  }

  async #refresh(token: StoredToken): Promise<StoredToken> {
    let refreshToken = token.refreshToken;
    if (refreshToken === undefined) {
      throw reauthError(this.account, `The stored token of ${this.account} has no refresh token`);
    }
    let grant;
    try {
      grant = await this.#client.refresh(refreshToken);
    } catch (error) {
      this.#observer.tokenRefresh?.(this.account, "error");
      if (!(error instanceof AuthError && error.code === "INVALID_GRANT")) throw error;
      // `ingest auth setup` may have stored a new grant since this token was read.
      const stored = await this.#store.load(this.account);
      if (stored?.refreshToken === undefined || stored.refreshToken === refreshToken) {
        throw this.#park(refreshToken, error);
      }
      refreshToken = stored.refreshToken;
      token = stored;
      try {
        grant = await this.#client.refresh(refreshToken);
      } catch (retryError) {
        this.#observer.tokenRefresh?.(this.account, "error");
        if (retryError instanceof AuthError && retryError.code === "INVALID_GRANT") {
          throw this.#park(refreshToken, retryError);
        }
        throw retryError;
      }
    }
    this.#observer.tokenRefresh?.(this.account, "ok");
    const now = this.#now();
    this.#lastRefreshAt = now;
    const usedRefreshToken = refreshToken;
    const next: StoredToken = {
      refreshToken: grant.refreshToken ?? usedRefreshToken,
      accessToken: grant.accessToken,
      expiresAt: grant.expiresAt,
      scopes: grant.scopes.length > 0 ? grant.scopes : token.scopes,
      refreshTokenExpiresAt: grant.refreshTokenExpiresAt ?? token.refreshTokenExpiresAt,
      updatedAt: now,
    };
    this.#token = next;
    try {
      // Keep a grant that another process stored meanwhile (a new setup wins).
      await this.#store.update(
        this.account,
        (current) =>
          current !== undefined && current.refreshToken !== usedRefreshToken ? current : next,
      );
    } catch (error) {
      this.#logger.warn("refreshed access token could not be saved; using it from memory", {
        code: error instanceof AuthError ? error.code : undefined,
      });
    }
    return next;
  }

  #park(refreshToken: string, cause: AuthError): AuthError {
    const error = reauthError(
      this.account,
      `The OAuth2 provider no longer accepts the refresh token of ${this.account} ` +
        `(invalid_grant): it was revoked, it expired, or the OAuth app is in "Testing" ` +
        `status, whose refresh tokens die after 7 days`,
      cause,
    );
    this.#parked = { refreshToken, error };
    this.#logger.error("refresh token rejected: account parked until `ingest auth setup`", {
      code: error.code,
    });
    return error;
  }
}
