import assert from "node:assert/strict";
import { loadConfig } from "../config/config.ts";
import { AuthError, ConfigError } from "../errors.ts";
import { createOAuthClient } from "./oauth_client.ts";

/** A token endpoint answering `status` with `body`. */
function tokenEndpoint(status: number, body: unknown) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      await request.body?.cancel();
      return Response.json(body, { status });
    },
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  const config = loadConfig({
    env: {
      GOOGLE_CLIENT_ID: "id",
      GOOGLE_CLIENT_SECRET: "secret",
      GOOGLE_OAUTH_TOKEN_URL: `${url}/token`,
      GOOGLE_OAUTH_REVOKE_URL: `${url}/revoke`,
    },
  });
  return {
    client: createOAuthClient(config.google),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function codeOf(promise: Promise<unknown>): Promise<[string, boolean, boolean]> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof AuthError, String(error));
  return [error.code, error.retryable, error.reauthRequired];
}

Deno.test("refresh maps invalid_grant to a reauth error", async () => {
  await using endpoint = tokenEndpoint(400, {
    error: "invalid_grant",
    error_description: "revoked",
  });
  assert.deepEqual(await codeOf(endpoint.client.refresh("r")), ["INVALID_GRANT", false, true]);
});

Deno.test("refresh maps a 5xx answer to a retryable error, without retrying inside gaxios", async () => {
  await using endpoint = tokenEndpoint(503, {});
  assert.deepEqual(await codeOf(endpoint.client.refresh("r")), ["OAUTH_UNAVAILABLE", true, false]);
});

Deno.test("refresh maps invalid_client to a permanent error naming the settings", async () => {
  await using endpoint = tokenEndpoint(401, { error: "invalid_client" });
  const error = await endpoint.client.refresh("r").catch((e) => e);
  assert.equal(error.code, "OAUTH_INVALID_CLIENT");
  assert.match(error.message, /GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET/);
});

Deno.test("a revoke failure never carries the token in its message or cause", async () => {
  await using endpoint = tokenEndpoint(500, {});
  const error = await endpoint.client.revoke("1//very-secret").catch((e) => e);
  assert.ok(error instanceof AuthError);
  assert.doesNotMatch(`${error.message} ${(error.cause as Error).message}`, /very-secret/);
});

Deno.test("the authorization URL asks for offline access, consent and PKCE S256", () => {
  const config = loadConfig({ env: { GOOGLE_CLIENT_ID: "id", GOOGLE_CLIENT_SECRET: "s" } });
  const url = new URL(
    createOAuthClient(config.google).authorizationUrl({
      redirectUri: "http://127.0.0.1:5000/",
      state: "st",
      codeChallenge: "ch",
    }),
  );
  assert.equal(url.origin + url.pathname, "https://accounts.google.com/o/oauth2/v2/auth");
  const q = url.searchParams;
  assert.equal(q.get("access_type"), "offline");
  assert.equal(q.get("prompt"), "consent");
  assert.equal(q.get("code_challenge_method"), "S256");
  assert.equal(q.get("state"), "st");
  assert.equal(q.get("redirect_uri"), "http://127.0.0.1:5000/");
  assert.ok(q.get("scope")?.split(" ").includes("https://mail.google.com/"));
});

Deno.test("createOAuthClient() names both missing client settings", () => {
  assert.throws(
    () => createOAuthClient(loadConfig({}).google),
    (error: unknown) => error instanceof ConfigError && error.problems.length === 2,
  );
});
