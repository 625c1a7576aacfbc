/**
 * `ingest auth setup` without the CLI: run the loopback consent flow and
 * store the account's tokens. The store is checked before the flow starts
 * (permissions, key) and written only after everything succeeded.
 *
 * @module
 */

import { type LoopbackFlowOptions, runLoopbackFlow } from "./loopback_flow.ts";
import type { OAuthClient } from "./oauth_client.ts";
import type { StoredToken, TokenStore } from "./token_store.ts";

/** Options of {@link setupAccount}. */
export interface SetupOptions extends Omit<LoopbackFlowOptions, "client"> {
  /** OAuth2 client pointed at the configured endpoints. */
  client: OAuthClient;
  /** Where the new token is stored. */
  store: TokenStore;
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number;
}

/** The account that was set up and what was stored for it. */
export interface SetupResult {
  /** The account that gave consent. */
  readonly account: string;
  /** The stored token (never print it). */
  readonly token: StoredToken;
}

/** Runs the consent flow and stores the refresh token (replacing an older one of that account). */
export async function setupAccount(options: SetupOptions): Promise<SetupResult> {
  // Fail before the browser step when the file cannot be used (permissions, wrong key).
  await options.store.list();
  const { account, grant } = await runLoopbackFlow(options);
  const token: StoredToken = {
    refreshToken: grant.refreshToken,
    accessToken: grant.accessToken,
    expiresAt: grant.expiresAt,
    scopes: grant.scopes,
    refreshTokenExpiresAt: grant.refreshTokenExpiresAt,
    updatedAt: (options.now ?? Date.now)(),
  };
  await options.store.update(account, () => token);
  return { account, token };
}
