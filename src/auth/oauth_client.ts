/**
 * The OAuth2 provider seen from `ingest`: google-auth-library's real
 * `OAuth2Client` (authorization URL, code exchange with PKCE, refresh,
 * revoke) pointed at the configured endpoints, plus the userinfo call that
 * finds the account's address. Every failure becomes an {@link AuthError}
 * whose `code` says what the provider answered.
 *
 * @module
 */

import { OAuth2Client } from "google-auth-library";
import type { GoogleConfig } from "../config/config.ts";
import { AuthError, ConfigError, type ErrorCode, IngestError } from "../errors.ts";
import { oauthClientProblems } from "./oauth_settings.ts";

/** Full IMAP access to Gmail: the only scope Gmail's IMAP accepts. */
export const GMAIL_SCOPE = "https://mail.google.com/";

/**
 * Scopes asked for at setup. `openid email` are not needed for IMAP but the
 * userinfo endpoint only returns the address when they are granted.
 */
export const SETUP_SCOPES: readonly string[] = [GMAIL_SCOPE, "openid", "email"];

/** Tokens returned by the token endpoint. Times are milliseconds since the epoch. */
export interface TokenGrant {
  /** The access token. */
  readonly accessToken: string;
  /** Present after a code exchange with `access_type=offline`; usually absent after a refresh. */
  readonly refreshToken: string | undefined;
  /** Expiry in ms since the epoch, when the provider said. */
  readonly expiresAt: number | undefined;
  /** Granted scopes; empty when the provider did not say. */
  readonly scopes: readonly string[];
  /** From `refresh_token_expires_in`: set by Google for apps in "Testing" status. */
  readonly refreshTokenExpiresAt: number | undefined;
}

/** What {@link OAuthClient.authorizationUrl} needs. */
export interface AuthorizationRequest {
  /** Loopback redirect URI. */
  readonly redirectUri: string;
  /** Random `state` checked on the callback. */
  readonly state: string;
  /** PKCE S256 challenge. */
  readonly codeChallenge: string;
  /** Pre-selects the account on the consent screen. */
  readonly loginHint?: string | undefined;
}

/** The operations `ingest` needs from an OAuth2 provider. */
export interface OAuthClient {
  /** A PKCE verifier and its S256 challenge. */
  createPkce(): Promise<{ verifier: string; challenge: string }>;
  /** The consent URL: offline access, forced consent, PKCE S256. */
  authorizationUrl(request: AuthorizationRequest): string;
  /** Exchanges an authorization code (with its PKCE verifier). */
  exchangeCode(code: string, verifier: string, redirectUri: string): Promise<TokenGrant>;
  /** A new access token from a refresh token. */
  refresh(refreshToken: string): Promise<TokenGrant>;
  /** Revokes a token (a refresh token revokes the whole grant). */
  revoke(token: string): Promise<void>;
  /** The account's address, from the userinfo endpoint. */
  userEmail(accessToken: string): Promise<string>;
}

/** Options of {@link createOAuthClient}. */
export interface OAuthClientOptions {
  /** Per-request timeout. Default 15 000 ms. */
  timeoutMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
  /**
   * Require the OAuth client id and secret. Default `true`; revoking needs
   * neither, so `ingest auth revoke` works without them.
   */
  requireClient?: boolean;
}

/**
 * Creates the client. Throws a {@link ConfigError} naming every missing
 * setting when the OAuth client id or secret is not configured.
 */
export function createOAuthClient(
  google: GoogleConfig,
  options: OAuthClientOptions = {},
): OAuthClient {
  const problems = oauthClientProblems(google);
  if (problems.length > 0 && options.requireClient !== false) throw new ConfigError(problems);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const now = options.now ?? Date.now;
  const client = googleClient(google, timeoutMs);

  return {
    createPkce() {
      return createPkcePair(client);
    },

    authorizationUrl(request) {
      return authorizationUrlOf(client, request);
    },

    async exchangeCode(code, verifier, redirectUri) {
      const started = now();
      try {
        const { tokens } = await client.getToken({
          code,
          codeVerifier: verifier,
          redirect_uri: redirectUri,
        });
        return toGrant(tokens, started);
      } catch (error) {
        throw providerError("exchange the authorization code", google.tokenUrl, error);
      }
    },

    async refresh(refreshToken) {
      const started = now();
      try {
        // A client per refresh: OAuth2Client keeps credentials as state, and one
        // provider object may serve several accounts.
        const { credentials: tokens } = await withCredentials(client, refreshToken)
          .refreshAccessToken();
        return toGrant(tokens, started);
      } catch (error) {
        throw providerError("refresh the access token", google.tokenUrl, error);
      }
    },

    async revoke(token) {
      try {
        await client.revokeToken(token);
      } catch (error) {
        throw providerError("revoke the token", google.revokeUrl, error);
      }
    },

    userEmail(accessToken) {
      return fetchUserEmail(google.userinfoUrl, accessToken, timeoutMs);
    },
  };
}

/** google-auth-library's client against `google`'s endpoints, without its own retries. */
function googleClient(google: GoogleConfig, timeoutMs: number): OAuth2Client {
  return new OAuth2Client({
    clientId: google.clientId,
    clientSecret: google.clientSecret,
    endpoints: {
      oauth2AuthBaseUrl: google.authUrl,
      oauth2TokenUrl: google.tokenUrl,
      oauth2RevokeUrl: google.revokeUrl,
    },
    // The callers decide about retries (the producer backs off per account);
    // gaxios' own retries would hide an outage for seconds per call.
    transporterOptions: { timeout: timeoutMs, retryConfig: { retry: 0, noResponseRetries: 0 } },
  });
}

/** A PKCE verifier and its S256 challenge. */
async function createPkcePair(
  client: OAuth2Client,
): Promise<{ verifier: string; challenge: string }> {
  const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
  if (codeChallenge === undefined) {
    throw new IngestError("INTERNAL", "PKCE challenge was not generated", false);
  }
  return { verifier: codeVerifier, challenge: codeChallenge };
}

/** The consent URL: offline access with a fresh consent, PKCE S256. */
function authorizationUrlOf(client: OAuth2Client, request: AuthorizationRequest): string {
  return client.generateAuthUrl({
    redirect_uri: request.redirectUri,
    scope: [...SETUP_SCOPES],
    access_type: "offline",
    prompt: "consent",
    state: request.state,
    code_challenge: request.codeChallenge,
    // The enum's value is "S256"; the string cast avoids importing the enum.
    code_challenge_method: "S256" as never,
    login_hint: request.loginHint,
  });
}

/** The account's address from the userinfo endpoint `url`. */
async function fetchUserEmail(
  url: string,
  accessToken: string,
  timeoutMs: number,
): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new AuthError(
      "OAUTH_UNAVAILABLE",
      `Cannot reach the userinfo endpoint ${url}`,
      { cause: error, retryable: true },
    );
  }
  const body = await response.json().catch(() => ({})) as { email?: unknown };
  if (!response.ok || typeof body.email !== "string" || body.email === "") {
    throw new AuthError(
      "USERINFO_FAILED",
      `The userinfo endpoint ${url} did not return the account's address ` +
        `(HTTP ${response.status}). Grant the "email" permission on the consent screen.`,
    );
  }
  return body.email;
}

/** A client sharing `base`'s settings and transport, holding one refresh token. */
function withCredentials(base: OAuth2Client, refreshToken: string): OAuth2Client {
  const client = new OAuth2Client({
    clientId: base._clientId,
    clientSecret: base._clientSecret,
    endpoints: base.endpoints,
    transporter: base.transporter,
  });
  client.setCredentials({ refresh_token: refreshToken });
  return client;
}

/** The fields google-auth-library returns (it passes unknown fields through). */
interface RawTokens {
  access_token?: string | null;
  refresh_token?: string | null;
  expiry_date?: number | null;
  scope?: string;
  refresh_token_expires_in?: number;
}

function toGrant(tokens: RawTokens, requestedAt: number): TokenGrant {
  if (typeof tokens.access_token !== "string" || tokens.access_token === "") {
    throw new AuthError("TOKEN_RESPONSE_INVALID", "The token endpoint returned no access token");
  }
  const refreshIn = Number(tokens.refresh_token_expires_in);
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? undefined,
    expiresAt: tokens.expiry_date ?? undefined,
    scopes: (tokens.scope ?? "").split(" ").filter((scope) => scope),
    refreshTokenExpiresAt: Number.isFinite(refreshIn) && refreshIn > 0
      ? requestedAt + refreshIn * 1000
      : undefined,
  };
}

/** The OAuth error code and description of a failed provider call, if it answered one. */
export function oauthErrorOf(error: unknown): { status?: number; code?: string; text?: string } {
  const response = (error as { response?: { status?: number; data?: unknown } })?.response;
  if (response === undefined) return {};
  const data = response.data as { error?: unknown; error_description?: unknown } | undefined;
  return {
    status: response.status,
    code: typeof data?.error === "string" ? data.error : undefined,
    text: typeof data?.error_description === "string" ? data.error_description : undefined,
  };
}

/** RFC 6749 / RFC 7009 error names and their codes; any other name is `OAUTH_REJECTED`. */
const OAUTH_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  invalid_client: "OAUTH_INVALID_CLIENT",
  invalid_request: "OAUTH_INVALID_REQUEST",
  invalid_scope: "OAUTH_INVALID_SCOPE",
  invalid_token: "OAUTH_INVALID_TOKEN",
  unauthorized_client: "OAUTH_UNAUTHORIZED_CLIENT",
  unsupported_grant_type: "OAUTH_UNSUPPORTED_GRANT_TYPE",
};

/**
 * Maps a google-auth-library failure: `invalid_grant` needs a new consent
 * (`reauthRequired`), other OAuth errors are permanent, and transport
 * failures or 5xx answers are retryable (`OAUTH_UNAVAILABLE`).
 */
function providerError(action: string, url: string, raw: unknown): AuthError {
  const { status, code, text } = oauthErrorOf(raw);
  const error = redacted(raw);
  const detail = code === undefined ? "" : `: ${code}${text ? ` (${text})` : ""}`;
  if (code === "invalid_grant") {
    return new AuthError("INVALID_GRANT", `Cannot ${action}${detail}`, {
      cause: error,
      reauthRequired: true,
    });
  }
  if (status === undefined || status >= 500 || status === 429 || status === 408) {
    return new AuthError(
      "OAUTH_UNAVAILABLE",
      `Cannot ${action}: ${url} ${
        status === undefined ? "cannot be reached" : `answered HTTP ${status}`
      }`,
      { cause: error, retryable: true },
    );
  }
  const hint = code === "invalid_client" ? ": check GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET" : "";
  return new AuthError(
    (code === undefined ? undefined : OAUTH_ERROR_CODES[code]) ?? "OAUTH_REJECTED",
    `Cannot ${action}: HTTP ${status}${detail}${hint}`,
    { cause: error },
  );
}

/**
 * The cause kept on errors, without secrets: gaxios messages may quote the
 * request URL, and the revoke URL carries the token.
 */
function redacted(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(message.replace(/token=[^&\s"']+/gi, "token=[redacted]"));
}
