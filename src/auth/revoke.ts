/**
 * `ingest auth revoke` without the CLI: revoke the grant at the provider,
 * then remove the local token whatever the provider answered.
 *
 * @module
 */

import { AuthError } from "../errors.ts";
import type { OAuthClient } from "./oauth_client.ts";
import type { TokenStore } from "./token_store.ts";

/** What {@link revokeAccount} did. */
export interface RevokeResult {
  /** The account whose token was removed. */
  readonly account: string;
  /** Whether a token was stored (and is now removed). */
  readonly removedLocally: boolean;
  /**
   * `revoked`: the provider confirmed; `already_invalid`: it no longer knew the
   * token; `failed`: it could not be reached or refused (see `remoteError`);
   * `skipped`: nothing was stored.
   */
  readonly remote: "revoked" | "already_invalid" | "failed" | "skipped";
  /** Why the remote revoke failed, when it did (the local token is removed anyway). */
  readonly remoteError: AuthError | undefined;
}

/** Revokes `account`'s grant and removes its token from `store`. */
export async function revokeAccount(
  store: TokenStore,
  client: OAuthClient,
  account: string,
): Promise<RevokeResult> {
  const token = await store.load(account);
  if (token === undefined) {
    return { account, removedLocally: false, remote: "skipped", remoteError: undefined };
  }
  let remote: RevokeResult["remote"] = "skipped";
  let remoteError: AuthError | undefined;
  // Revoking the refresh token ends the whole grant, access tokens included.
  const secret = token.refreshToken ?? token.accessToken;
  if (secret !== undefined) {
    try {
      await client.revoke(secret);
      remote = "revoked";
    } catch (error) {
      if (error instanceof AuthError && error.code === "OAUTH_INVALID_TOKEN") {
        remote = "already_invalid";
      } else {
        remote = "failed";
        remoteError = error instanceof AuthError
          ? error
          : new AuthError("REVOKE_FAILED", "Cannot revoke the token", { cause: error });
      }
    }
  }
  const removedLocally = await store.remove(account);
  return { account, removedLocally, remote, remoteError };
}
