import assert from "node:assert/strict";
import { AuthError, ConfigError } from "../errors.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import { preflightCredentials } from "./credentials_preflight.ts";

function failing(error: Error): CredentialsProvider {
  return { account: "a@example.test", get: () => Promise.reject(error) };
}

Deno.test("preflightCredentials() turns a token-file problem into a ConfigError with its fix", async () => {
  const loose = new AuthError(
    "TOKEN_FILE_PERMISSIONS",
    "Refusing to use the token file /t.json: mode 0644. Fix it with: chmod 600 /t.json",
  );
  const error = await preflightCredentials(failing(loose)).then(
    () => assert.fail("no error"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConfigError);
  assert.match(error.message, /chmod 600 \/t\.json/);
  assert.match(error.message, /TOKEN_FILE_PERMISSIONS/);
});

Deno.test("preflightCredentials() leaves dead grants and outages to the followers", async () => {
  await preflightCredentials(
    failing(new AuthError("REAUTH_REQUIRED", "invalid_grant", { reauthRequired: true })),
  );
  await preflightCredentials(
    failing(new AuthError("OAUTH_UNAVAILABLE", "provider down", { retryable: true })),
  );
  await preflightCredentials({
    account: "a",
    get: () => Promise.resolve({ user: "a", pass: "p" }),
  });
});
