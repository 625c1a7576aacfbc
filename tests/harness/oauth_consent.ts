/**
 * Stores a consented OAuth2 grant for an account without a browser: follows
 * the fake provider's consent redirect with fetch, exchanges the code and
 * saves the grant in the token store the configuration names.
 *
 * @module
 */

import { createOAuthClient } from "../../src/auth/oauth_client.ts";
import { openTokenStore, type TokenStore } from "../../src/auth/token_store.ts";
import { loadConfig } from "../../src/config/config.ts";

/**
 * Goes through consent with the fake provider `env` points at, and stores the
 * grant of `account` (in `store`; default: the token file `env` names).
 */
export async function storeConsentedToken(
  env: Record<string, string>,
  account: string,
  store?: TokenStore,
): Promise<void> {
  const config = loadConfig({ env });
  const client = createOAuthClient(config.google);
  const pkce = await client.createPkce();
  const redirectUri = "http://127.0.0.1:9/callback";
  const consent = await fetch(
    client.authorizationUrl({ redirectUri, state: "s1", codeChallenge: pkce.challenge }),
    { redirect: "manual" },
  );
  await consent.body?.cancel();
  const code = new URL(consent.headers.get("location")!).searchParams.get("code")!;
  const grant = await client.exchangeCode(code, pkce.verifier, redirectUri);
  await (store ?? openTokenStore({ path: config.google.tokenFile, key: config.google.tokenKey }))
    .save(
      account,
      {
        refreshToken: grant.refreshToken,
        accessToken: grant.accessToken,
        expiresAt: grant.expiresAt,
        scopes: grant.scopes,
        refreshTokenExpiresAt: grant.refreshTokenExpiresAt,
        updatedAt: Date.now(),
      },
    );
}
