/**
 * `ingest auth info` without the CLI: what is stored per account, without
 * any token.
 *
 * @module
 */

import type { TokenFileStatus, TokenStore } from "./token_store.ts";

/** Facts about one account's stored token. Times are milliseconds since the epoch. */
export interface AccountTokenInfo {
  /** The account. */
  readonly account: string;
  /** Granted scopes. */
  readonly scopes: readonly string[];
  /** Access token expiry, ms since the epoch. */
  readonly accessTokenExpiresAt: number | undefined;
  /** Whether the access token has expired (it is refreshed on use). */
  readonly accessTokenExpired: boolean;
  /** Whether a refresh token is stored. */
  readonly refreshTokenPresent: boolean;
  /** Set for apps in "Testing" status. */
  readonly refreshTokenExpiresAt: number | undefined;
  /** Last write, ms since the epoch. */
  readonly updatedAt: number | undefined;
}

/** The token file and its accounts. */
export interface TokenInfo {
  /** The token file: path, mode, encryption. */
  readonly file: TokenFileStatus;
  /** Accounts with a stored token (or only the one asked for). */
  readonly accounts: readonly AccountTokenInfo[];
}

/** Describes the store, or only `account` when given. */
export async function describeTokens(
  store: TokenStore,
  account?: string,
  now: number = Date.now(),
): Promise<TokenInfo> {
  const file = await store.status();
  const tokens = await store.list();
  const accounts = [...tokens.entries()]
    .filter(([name]) => account === undefined || name === account)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, token]): AccountTokenInfo => ({
      account: name,
      scopes: token.scopes,
      accessTokenExpiresAt: token.expiresAt,
      accessTokenExpired: token.accessToken === undefined || token.expiresAt === undefined ||
        token.expiresAt <= now,
      refreshTokenPresent: token.refreshToken !== undefined,
      refreshTokenExpiresAt: token.refreshTokenExpiresAt,
      updatedAt: token.updatedAt || undefined,
    }));
  return { file, accounts };
}
