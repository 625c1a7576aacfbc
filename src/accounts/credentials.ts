/**
 * Credentials of a registered account, for the fleet: one
 * {@link CredentialsProvider} per {@link AccountRecord}, whatever its auth.
 *
 * - `password`: the sealed password (`account_secret.ts`) is opened under
 *   `INGEST_TOKEN_KEY` at each login, never logged, never kept between logins;
 * - `oauth2`: the OAuth2 provider of `auth/token_provider.ts` (refresh 5
 *   minutes before expiry, coalesced refreshes, `invalid_grant` parks the
 *   account) over the given token store, so every process of a fleet can use
 *   the same `TOKEN_STORE=redis`.
 *
 * @module
 */

import { importTokenKey } from "../auth/token_crypto.ts";
import type { OAuthClient } from "../auth/oauth_client.ts";
import { createOAuthCredentials } from "../auth/token_provider.ts";
import type { TokenStore } from "../auth/token_store.ts";
import type { Config } from "../config/config.ts";
import { AuthError } from "../errors.ts";
import type { CredentialsProvider, ImapCredentials } from "../imap/credentials.ts";
import type { Logger } from "../log/logger.ts";
import type { ProducerObserver } from "../observe/events.ts";
import { openPassword } from "./account_secret.ts";
import type { AccountRecord } from "./registry.ts";

/** What {@link accountImapCredentials} needs. */
export interface AccountCredentialsDeps {
  /** `config.google`: the token key, the OAuth client and endpoints. */
  readonly config: Config;
  /** Structured logger (never given an address or a secret). */
  readonly logger: Logger;
  /**
   * Token store of oauth2 accounts; share one across accounts. Pass
   * `configuredTokenStore(config, redis)` (`auth/token_store_choice.ts`) to
   * honour `TOKEN_STORE`; default: the file at `GOOGLE_TOKEN_FILE`.
   */
  readonly tokenStore?: TokenStore;
  /** OAuth client (oauth2 accounts); default: google-auth-library against `config.google`. */
  readonly client?: OAuthClient;
  /** Told about every refresh request. */
  readonly observer?: Pick<ProducerObserver, "tokenRefresh">;
}

/**
 * A credentials provider for `record`. Nothing is read or decrypted before
 * the first `get()`. `get()` throws an `AuthError`: `TOKEN_KEY_MISSING` /
 * `TOKEN_KEY_MISMATCH` / `TOKEN_FILE_TAMPERED` for a password that cannot be
 * opened (not retryable: fix the key or store the password again), and for
 * oauth2 the errors of `createOAuthCredentials` (`reauthRequired` for a dead
 * grant).
 */
export function accountImapCredentials(
  record: AccountRecord,
  deps: AccountCredentialsDeps,
): CredentialsProvider {
  if (record.auth === "oauth2") {
    return createOAuthCredentials({
      config: deps.config,
      account: record.account,
      logger: deps.logger,
      observer: deps.observer,
      store: deps.tokenStore,
      client: deps.client,
    });
  }
  return sealedPasswordCredentials(record, deps.config.google.tokenKey);
}

function sealedPasswordCredentials(
  record: AccountRecord,
  tokenKey: string | undefined,
): CredentialsProvider {
  const user = record.account;
  let key: ReturnType<typeof importTokenKey> | undefined;
  return {
    account: user,
    // Opened at each login (microseconds), so the clear password lives only as long as one login.
    async get(): Promise<ImapCredentials> {
      const box = record.password_sealed;
      if (box === null) {
        throw new AuthError(
          "REAUTH_REQUIRED",
          `The registry record of ${user} has no password. Store one: ` +
            `ingest accounts add --account ${user} --auth password --update --password-stdin`,
          { reauthRequired: true },
        );
      }
      if (tokenKey === undefined) {
        throw new AuthError(
          "TOKEN_KEY_MISSING",
          `Cannot open the sealed password of ${user}: INGEST_TOKEN_KEY is not set. ` +
            `Set the key it was sealed with.`,
        );
      }
      key ??= importTokenKey(tokenKey).catch((error) => {
        key = undefined;
        throw error;
      });
      return { user, pass: await openPassword(await key, user, box) };
    },
  };
}
