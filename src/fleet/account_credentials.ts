/**
 * IMAP credentials of a registry account, for a fleet process: the password
 * sealed in the record (opened with `INGEST_TOKEN_KEY` at each login, never
 * kept in clear between logins), or the OAuth2 provider of `src/auth/` for
 * `oauth2` accounts.
 *
 * Stand-in until the registry's own `accountImapCredentials` (src/accounts/)
 * lands; then this module delegates to it.
 *
 * @module
 */

import type { AccountRecord } from "../accounts/registry.ts";
import { importTokenKey, open } from "../auth/token_crypto.ts";
import { createOAuthCredentials } from "../auth/token_provider.ts";
import type { Config } from "../config/config.ts";
import { AuthError } from "../errors.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import type { Logger } from "../log/logger.ts";
import type { ProducerObserver } from "../observe/events.ts";

/** What {@link fleetAccountCredentials} needs besides the record. */
export interface FleetCredentialsDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly observer?: Pick<ProducerObserver, "tokenRefresh">;
}

/** The credentials provider of one registry account. */
export function fleetAccountCredentials(
  record: AccountRecord,
  deps: FleetCredentialsDeps,
): CredentialsProvider {
  const { account } = record;
  if (record.auth === "oauth2") {
    return createOAuthCredentials({ ...deps, account });
  }
  const keyText = deps.config.google.tokenKey;
  return {
    account,
    get: async () => {
      const box = record.password_sealed;
      if (box === null) {
        throw new AuthError(
          "REAUTH_REQUIRED",
          `The registry holds no password for ${account}: ` +
            `ingest accounts add --account ${account} --auth password --password-stdin`,
          { reauthRequired: true },
        );
      }
      if (keyText === undefined) {
        throw new AuthError(
          "TOKEN_KEY_MISSING",
          "Account passwords in the registry are encrypted but INGEST_TOKEN_KEY is not set",
        );
      }
      const pass = await open(await importTokenKey(keyText), box, `the record of ${account}`);
      return { user: account, pass };
    },
  };
}
