/**
 * Before any mailbox connects, the producer asks once for credentials, so a
 * configuration problem behind them (a token file others can read, a
 * directory where the token file should be, a wrong `INGEST_TOKEN_KEY`, a
 * rejected OAuth client) stops the start at once with its fix (exit 2)
 * instead of being retried by every mailbox. Other failures (a dead grant,
 * an unreachable provider) are left to the followers, which park or retry.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import { isConfigurationFailure } from "./failure_policy.ts";

/** Throws a {@link ConfigError} naming the fix when the credentials cannot be had by config. */
export async function preflightCredentials(credentials: CredentialsProvider): Promise<void> {
  try {
    await credentials.get();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (isConfigurationFailure(error)) {
      throw new ConfigError([`${error.message} [${error.code}]`], { cause: error });
    }
  }
}
