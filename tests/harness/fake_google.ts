/**
 * A fake Google OAuth2 provider on 127.0.0.1 for tests: authorization
 * endpoint (redirects back with a code, or `error=access_denied`), token
 * endpoint (authorization_code with a PKCE S256 check, refresh_token),
 * revoke, userinfo, and `/tokeninfo` for Dovecot's `oauth2` passdb
 * introspection. Switches make it refuse refresh tokens (`invalid_grant`),
 * deny consent, or go "down" (HTTP 503 everywhere); counters show how many
 * requests each endpoint received.
 *
 * @module
 */

/** Options of {@link startFakeGoogle}. */
export interface FakeGoogleOptions {
  /** Default `test-client.apps.googleusercontent.com`. */
  clientId?: string;
  /** Default `test-secret`. */
  clientSecret?: string;
  /** The address the consent "signs in" as. Default `alice@example.test`. */
  email?: string;
  /** Lifetime of issued access tokens. Default 3600 s. */
  accessTokenSeconds?: number;
  /** When set, token answers carry `refresh_token_expires_in` (an app in "Testing" status). */
  refreshTokenSeconds?: number;
}

/** Requests received, by endpoint. */
export interface FakeGoogleCounters {
  authorize: number;
  /** `grant_type=authorization_code` requests. */
  codeExchange: number;
  /** `grant_type=refresh_token` requests. */
  refresh: number;
  revoke: number;
  userinfo: number;
  tokeninfo: number;
}

/** A running fake provider. */
export interface FakeGoogle extends AsyncDisposable {
  /** e.g. `http://127.0.0.1:41234`. */
  readonly baseUrl: string;
  readonly authUrl: string;
  readonly tokenUrl: string;
  readonly revokeUrl: string;
  readonly userinfoUrl: string;
  /** Introspection URL for Dovecot (`?access_token=` is appended by the harness). */
  readonly tokeninfoUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The variables that point `ingest` at this provider. */
  readonly env: Record<string, string>;
  readonly counters: FakeGoogleCounters;
  /** The account consent signs in as. */
  email: string;
  /** Answer consent with `error=access_denied`. */
  denyConsent: boolean;
  /** Redirect back with this `state` instead of the one received (CSRF test). */
  stateOverride: string | undefined;
  /** Refuse every refresh with `invalid_grant`. */
  invalidGrant: boolean;
  /** Answer every request with HTTP 503. */
  down: boolean;
  /** Makes every access token issued so far invalid (as if expired at the provider). */
  expireAccessTokens(): void;
  /** Whether `token` is a currently valid access token. */
  isValidAccessToken(token: string): boolean;
  /** Refresh tokens issued and not revoked. */
  liveRefreshTokens(): string[];
  close(): Promise<void>;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  method: string;
  scope: string;
  email: string;
}

interface AccessGrant {
  email: string;
  scope: string;
  expiresAt: number;
  refreshToken: string | undefined;
}

/** Starts the provider on an ephemeral loopback port. */
export function startFakeGoogle(options: FakeGoogleOptions = {}): Promise<FakeGoogle> {
  const clientId = options.clientId ?? "test-client.apps.googleusercontent.com";
  const clientSecret = options.clientSecret ?? "test-secret";
  const accessSeconds = options.accessTokenSeconds ?? 3600;
  const codes = new Map<string, PendingCode>();
  const refreshTokens = new Map<string, { email: string; scope: string }>();
  const accessTokens = new Map<string, AccessGrant>();
  const counters: FakeGoogleCounters = {
    authorize: 0,
    codeExchange: 0,
    refresh: 0,
    revoke: 0,
    userinfo: 0,
    tokeninfo: 0,
  };

  const random = (prefix: string) =>
    prefix + crypto.getRandomValues(new Uint8Array(18)).reduce(
      (s, b) => s + b.toString(16).padStart(2, "0"),
      "",
    );

  function oauthError(status: number, error: string, description: string): Response {
    return Response.json({ error, error_description: description }, { status });
  }

  function issueAccess(email: string, scope: string, refreshToken: string | undefined) {
    const token = random("ya29.fake-");
    accessTokens.set(token, {
      email,
      scope,
      expiresAt: Date.now() + accessSeconds * 1000,
      refreshToken,
    });
    return token;
  }

  function tokenAnswer(body: Record<string, unknown>): Response {
    if (options.refreshTokenSeconds !== undefined) {
      body.refresh_token_expires_in = options.refreshTokenSeconds;
    }
    return Response.json(body, { headers: { "cache-control": "no-store" } });
  }

  function validAccess(token: string | null | undefined): AccessGrant | undefined {
    if (!token) return undefined;
    const grant = accessTokens.get(token);
    if (!grant || grant.expiresAt <= Date.now()) return undefined;
    if (grant.refreshToken !== undefined && !refreshTokens.has(grant.refreshToken)) {
      return undefined;
    }
    return grant;
  }

  function authorize(url: URL): Response {
    counters.authorize++;
    const q = url.searchParams;
    const redirectUri = q.get("redirect_uri") ?? "";
    if (q.get("client_id") !== clientId) {
      return new Response("Error 401: invalid_client", { status: 401 });
    }
    if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(redirectUri)) {
      return new Response("Error 400: redirect_uri_mismatch", { status: 400 });
    }
    const back = new URL(redirectUri);
    const state = fake.stateOverride ?? q.get("state");
    if (state !== null) back.searchParams.set("state", state);
    if (fake.denyConsent) {
      back.searchParams.set("error", "access_denied");
      return Response.redirect(back.href, 302);
    }
    if (q.get("response_type") !== "code" || !q.get("code_challenge")) {
      return new Response("Error 400: invalid_request (PKCE required)", { status: 400 });
    }
    const code = random("4/fake-code-");
    const scope = q.get("scope") ?? "";
    codes.set(code, {
      clientId,
      redirectUri,
      challenge: q.get("code_challenge") ?? "",
      method: q.get("code_challenge_method") ?? "plain",
      scope,
      email: fake.email,
    });
    back.searchParams.set("code", code);
    back.searchParams.set("scope", scope);
    return Response.redirect(back.href, 302);
  }

  async function s256(verifier: string): Promise<string> {
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)),
    );
    return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_")
      .replace(/=+$/, "");
  }

  async function token(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text());
    if (form.get("client_id") !== clientId || form.get("client_secret") !== clientSecret) {
      return oauthError(401, "invalid_client", "The OAuth client was not found.");
    }
    const grantType = form.get("grant_type");
    if (grantType === "authorization_code") {
      counters.codeExchange++;
      const code = form.get("code") ?? "";
      const pending = codes.get(code);
      codes.delete(code); // single use
      if (!pending) return oauthError(400, "invalid_grant", "Malformed auth code.");
      if (form.get("redirect_uri") !== pending.redirectUri) {
        return oauthError(400, "redirect_uri_mismatch", "Bad Request");
      }
      const verifier = form.get("code_verifier") ?? "";
      const expected = pending.method === "S256" ? await s256(verifier) : verifier;
      if (verifier === "" || expected !== pending.challenge) {
        return oauthError(400, "invalid_grant", "Invalid code verifier.");
      }
      const refreshToken = random("1//fake-refresh-");
      refreshTokens.set(refreshToken, { email: pending.email, scope: pending.scope });
      return tokenAnswer({
        access_token: issueAccess(pending.email, pending.scope, refreshToken),
        expires_in: accessSeconds,
        refresh_token: refreshToken,
        scope: pending.scope,
        token_type: "Bearer",
      });
    }
    if (grantType === "refresh_token") {
      counters.refresh++;
      const refreshToken = form.get("refresh_token") ?? "";
      const grant = refreshTokens.get(refreshToken);
      if (!grant || fake.invalidGrant) {
        return oauthError(400, "invalid_grant", "Token has been expired or revoked.");
      }
      return tokenAnswer({
        access_token: issueAccess(grant.email, grant.scope, refreshToken),
        expires_in: accessSeconds,
        scope: grant.scope,
        token_type: "Bearer",
      });
    }
    return oauthError(400, "unsupported_grant_type", `Invalid grant_type: ${grantType}`);
  }

  async function revoke(request: Request, url: URL): Promise<Response> {
    counters.revoke++;
    const form = new URLSearchParams(await request.text());
    const value = url.searchParams.get("token") ?? form.get("token") ?? "";
    if (refreshTokens.delete(value)) return new Response("{}", { status: 200 });
    const access = accessTokens.get(value);
    if (access) {
      accessTokens.delete(value);
      if (access.refreshToken !== undefined) refreshTokens.delete(access.refreshToken);
      return new Response("{}", { status: 200 });
    }
    return oauthError(400, "invalid_token", "Token expired or revoked");
  }

  function userinfo(request: Request): Response {
    counters.userinfo++;
    const bearer = request.headers.get("authorization")?.replace(/^Bearer\s+/i, "");
    const grant = validAccess(bearer);
    if (!grant) return oauthError(401, "invalid_token", "Invalid Credentials");
    // Like Google: the address is only given with the email scope.
    if (!grant.scope.split(" ").includes("email")) return Response.json({ sub: "1234" });
    return Response.json({ sub: "1234", email: grant.email, email_verified: true });
  }

  function tokeninfo(url: URL): Response {
    counters.tokeninfo++;
    const value = url.searchParams.get("access_token");
    const grant = validAccess(value);
    if (!grant) return oauthError(400, "invalid_token", "Invalid Value");
    return Response.json({
      aud: clientId,
      scope: grant.scope,
      email: grant.email,
      email_verified: "true",
      expires_in: String(Math.floor((grant.expiresAt - Date.now()) / 1000)),
      // For Dovecot's oauth2 passdb (active_attribute = active).
      active: true,
    });
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (fake.down) {
      await request.body?.cancel();
      return new Response("Service Unavailable", { status: 503 });
    }
    switch (`${request.method} ${url.pathname}`) {
      case "GET /o/oauth2/v2/auth":
        return authorize(url);
      case "POST /token":
        return await token(request);
      case "POST /revoke":
        return await revoke(request, url);
      case "GET /userinfo":
        return userinfo(request);
      case "GET /tokeninfo":
        return tokeninfo(url);
      default:
        return new Response("Not Found", { status: 404 });
    }
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handle);
  const baseUrl = `http://127.0.0.1:${server.addr.port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.shutdown();
  };
  const fake: FakeGoogle = {
    baseUrl,
    authUrl: `${baseUrl}/o/oauth2/v2/auth`,
    tokenUrl: `${baseUrl}/token`,
    revokeUrl: `${baseUrl}/revoke`,
    userinfoUrl: `${baseUrl}/userinfo`,
    tokeninfoUrl: `${baseUrl}/tokeninfo`,
    clientId,
    clientSecret,
    env: {
      GOOGLE_CLIENT_ID: clientId,
      GOOGLE_CLIENT_SECRET: clientSecret,
      GOOGLE_OAUTH_AUTH_URL: `${baseUrl}/o/oauth2/v2/auth`,
      GOOGLE_OAUTH_TOKEN_URL: `${baseUrl}/token`,
      GOOGLE_OAUTH_REVOKE_URL: `${baseUrl}/revoke`,
      GOOGLE_OAUTH_USERINFO_URL: `${baseUrl}/userinfo`,
    },
    counters,
    email: options.email ?? "alice@example.test",
    denyConsent: false,
    stateOverride: undefined,
    invalidGrant: false,
    down: false,
    expireAccessTokens() {
      for (const grant of accessTokens.values()) grant.expiresAt = 0;
    },
    isValidAccessToken: (value) => validAccess(value) !== undefined,
    liveRefreshTokens: () => [...refreshTokens.keys()],
    close,
    [Symbol.asyncDispose]: close,
  };
  return Promise.resolve(fake);
}
