/**
 * Doctor checks of the OAuth2 token (only when `IMAP_AUTH=oauth2`): the file
 * and its permissions, the account's token present and decryptable, a real
 * refresh, and the expiry of the access and refresh tokens.
 *
 * @module
 */

import { createOAuthCredentials } from "../auth/token_provider.ts";
import { KEY_GENERATION_HINT } from "../auth/token_crypto.ts";
import { chmodCommand, openTokenStore, type TokenStore } from "../auth/token_store.ts";
import type { Config } from "../config/config.ts";
import { AuthError, ConfigError } from "../errors.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import type { Logger } from "../log/logger.ts";
import { type CheckResult, reason, result, within } from "./check.ts";

/** Names of the token checks, in report order. */
export const TOKEN_CHECKS = [
  "token.file",
  "token.present",
  "token.refresh",
  "token.expiry",
] as const;

/** A refresh token that dies within this is reported as a warning. */
export const REFRESH_TOKEN_WARN_MS = 48 * 3600_000;

/** Options of {@link checkToken}. */
export interface TokenCheckOptions {
  logger: Logger;
  timeoutMs: number;
  /** Token store; default: the file of `config.google`. */
  store?: TokenStore;
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number;
}

/** What {@link checkToken} found; `credentials` is set when a refresh worked. */
export interface TokenCheckOutcome {
  readonly results: CheckResult[];
  readonly credentials: CredentialsProvider | undefined;
}

function skipRest(from: number, why: string): CheckResult[] {
  return TOKEN_CHECKS.slice(from).map((name) => result(name, "skip", why));
}

/** The outcome when `token.present` fails: the later checks are skipped. */
function presentFailed(
  earlier: CheckResult[],
  detail: string,
  fix: string,
  why: string,
): TokenCheckOutcome {
  return {
    results: [...earlier, result("token.present", "fail", detail, fix), ...skipRest(2, why)],
    credentials: undefined,
  };
}

function setupCommand(account: string): string {
  return `ingest auth setup --account ${account}`;
}

/** Runs the token checks of `config.imap.user`; never throws. */
export async function checkToken(
  config: Config,
  options: TokenCheckOptions,
): Promise<TokenCheckOutcome> {
  const now = options.now ?? Date.now;
  const account = config.imap.user;
  if (config.imap.auth !== "oauth2") {
    return {
      results: skipRest(0, "IMAP_AUTH=password: no OAuth2 token is used"),
      credentials: undefined,
    };
  }
  if (account === undefined) {
    return stopped([
      result(
        "token.file",
        "fail",
        "IMAP_USER is not set, so no account's token can be checked",
        "Set IMAP_USER to the Gmail address.",
      ),
      ...skipRest(1, "IMAP_USER is not set"),
    ]);
  }
  const google = config.google;
  const store = options.store ?? openTokenStore({ path: google.tokenFile, key: google.tokenKey });
  const file = await checkTokenFile(store, account, options.timeoutMs);
  if (!isResult(file)) return file;
  const present = await checkTokenPresent(store, account, options.timeoutMs, [file]);
  if (!isResult(present)) return present;
  const results = [file, present];
  const refreshed = await checkTokenRefresh({ config, account, store, now, options, results });
  if (!("credentials" in refreshed && refreshed.credentials)) return refreshed;
  // token.expiry: the new access token, and the refresh token's own end (Testing apps).
  try {
    const token = await store.load(account);
    results.push(assessExpiry(account, token?.expiresAt, token?.refreshTokenExpiresAt, now()));
  } catch (error) {
    results.push(
      result("token.expiry", "skip", `cannot read the refreshed token: ${reason(error)}`),
    );
  }
  return { results, credentials: refreshed.credentials };
}

/** A check passed (or warned), or the outcome that ends the token checks early. */
type Step = CheckResult | TokenCheckOutcome;

function isResult(step: Step): step is CheckResult {
  return !("results" in step);
}

function stopped(results: CheckResult[]): TokenCheckOutcome {
  return { results, credentials: undefined };
}

/** token.file: exists, private, encrypted. */
async function checkTokenFile(
  store: TokenStore,
  account: string,
  timeoutMs: number,
): Promise<Step> {
  try {
    const file = await within(timeoutMs, "reading the token file", () => store.status());
    if (!file.exists) {
      return stopped([
        result("token.file", "fail", `no token file at ${file.path}`, setupCommand(account)),
        ...skipRest(1, "no token file"),
      ]);
    }
    // The Redis store has no file mode: name the store alone.
    const where = file.mode === undefined
      ? file.path
      : `${file.path}: mode 0${file.mode.toString(8)}`;
    if (file.encryptedOnDisk && !file.keyConfigured) {
      return stopped([
        result(
          "token.file",
          "fail",
          `${file.path} is encrypted but INGEST_TOKEN_KEY is not set`,
          "Set INGEST_TOKEN_KEY to the key the file was written with.",
        ),
        ...skipRest(1, "the token file cannot be decrypted"),
      ]);
    }
    return file.encryptedOnDisk
      ? result("token.file", "pass", `${where}, encrypted (AES-256-GCM)`)
      : result(
        "token.file",
        "warn",
        `${where}, stored unencrypted`,
        `Set INGEST_TOKEN_KEY (generate one: ${KEY_GENERATION_HINT}); the next write encrypts the file.`,
      );
  } catch (error) {
    const permissions = error instanceof AuthError && error.code === "TOKEN_FILE_PERMISSIONS";
    return stopped([
      result(
        "token.file",
        "fail",
        reason(error),
        permissions ? chmodCommand(store.path) : "Check GOOGLE_TOKEN_FILE and its permissions.",
      ),
      ...skipRest(1, "the token file is not usable"),
    ]);
  }
}

/** token.present: stored and decryptable, with a refresh token. */
async function checkTokenPresent(
  store: TokenStore,
  account: string,
  timeoutMs: number,
  earlier: CheckResult[],
): Promise<Step> {
  try {
    const token = await within(timeoutMs, "decrypting the token file", () => store.load(account));
    const missing = token === undefined
      ? `no token is stored for ${account}`
      : token.refreshToken === undefined
      ? `the token of ${account} has no refresh token`
      : undefined;
    if (missing !== undefined) {
      return presentFailed(earlier, missing, setupCommand(account), "no usable token");
    }
    return result("token.present", "pass", `a refresh token is stored for ${account} and decrypts`);
  } catch (error) {
    return presentFailed(
      earlier,
      `cannot read the token of ${account}: ${reason(error)}`,
      "Check INGEST_TOKEN_KEY (the key the file was written with), or run " +
        setupCommand(account),
      "the token cannot be read",
    );
  }
}

/** token.refresh: ask the provider for a new access token (and store it); pushes onto `results`. */
async function checkTokenRefresh(
  step: {
    config: Config;
    account: string;
    store: TokenStore;
    now: () => number;
    options: TokenCheckOptions;
    results: CheckResult[];
  },
): Promise<TokenCheckOutcome> {
  const { config, account, store, now, options, results } = step;
  try {
    const credentials = createOAuthCredentials({
      config,
      account,
      logger: options.logger,
      store,
      now,
    });
    await within(
      options.timeoutMs,
      "refreshing the access token",
      () => credentials.get({ forceRefresh: true }),
    );
    results.push(
      result(
        "token.refresh",
        "pass",
        `the OAuth2 provider issued a new access token for ${account}`,
      ),
    );
    return { results, credentials };
  } catch (error) {
    const fix = error instanceof ConfigError
      ? "Set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET (see docs/OAUTH2_SETUP.md)."
      : error instanceof AuthError && error.reauthRequired
      ? setupCommand(account)
      : "Check network access to the OAuth2 token endpoint (GOOGLE_OAUTH_TOKEN_URL) and try again.";
    return stopped([
      ...results,
      result("token.refresh", "fail", reason(error), fix),
      ...skipRest(3, "the refresh failed"),
    ]);
  }
}

/** Judges the access token's expiry and, when the provider said, the refresh token's. */
export function assessExpiry(
  account: string,
  accessExpiresAt: number | undefined,
  refreshExpiresAt: number | undefined,
  now: number,
): CheckResult {
  const access = accessExpiresAt === undefined
    ? "access token without an expiry time"
    : `access token valid until ${new Date(accessExpiresAt).toISOString()}`;
  if (refreshExpiresAt === undefined) {
    return result("token.expiry", "pass", `${access}; the refresh token does not expire`);
  }
  const left = refreshExpiresAt - now;
  const when = new Date(refreshExpiresAt).toISOString();
  if (left <= 0) {
    return result(
      "token.expiry",
      "fail",
      `${access}; the refresh token expired at ${when}`,
      setupCommand(account),
    );
  }
  if (left < REFRESH_TOKEN_WARN_MS) {
    return result(
      "token.expiry",
      "warn",
      `${access}; the refresh token expires at ${when} (OAuth app in "Testing" status: 7-day tokens)`,
      `Publish the OAuth app ("In production") and run ${setupCommand(account)} again.`,
    );
  }
  return result("token.expiry", "pass", `${access}; the refresh token expires at ${when}`);
}
