import assert from "node:assert/strict";
import type { CredentialsProvider, ImapCredentials } from "../imap/credentials.ts";
import { passwordCredentials } from "../imap/credentials.ts";
import { AuthError, InvalidArgumentError } from "../errors.ts";
import { waitForNewCredentials } from "./reauth_wait.ts";

/** Credentials that answer from a script, one step per call (the last one repeats). */
function scripted(steps: Array<ImapCredentials | Error>): CredentialsProvider & { calls: number } {
  const provider = {
    account: "a@example.test",
    calls: 0,
    get(): Promise<ImapCredentials> {
      const step = steps[Math.min(provider.calls++, steps.length - 1)]!;
      return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
    },
  };
  return provider;
}

const dead = new AuthError("REAUTH_REQUIRED", "invalid_grant", { reauthRequired: true });

Deno.test("waitForNewCredentials() resumes once a refused grant is replaced by a new consent", async () => {
  const credentials = scripted([dead, dead, { user: "a@example.test", accessToken: "new" }]);
  const resumed = await waitForNewCredentials(credentials, {
    recheckMs: 5,
    signal: AbortSignal.timeout(5_000),
  });
  assert.equal(resumed, true);
  assert.equal(credentials.calls, 3);
});

Deno.test("waitForNewCredentials() resumes when an OAuth2 token was refreshed", async () => {
  const credentials = scripted([
    { user: "a", accessToken: "old" },
    { user: "a", accessToken: "old" },
    { user: "a", accessToken: "refreshed" },
  ]);
  assert.equal(
    await waitForNewCredentials(credentials, { recheckMs: 5, signal: AbortSignal.timeout(5_000) }),
    true,
  );
});

Deno.test("waitForNewCredentials() never retries an unchanged password; it ends on abort", async () => {
  const controller = new AbortController();
  const provider = passwordCredentials("a@example.test", "wrong");
  let calls = 0;
  const counting: CredentialsProvider = {
    account: provider.account,
    get: () => (calls++, provider.get()),
  };
  setTimeout(() => controller.abort(), 60);
  const resumed = await waitForNewCredentials(counting, {
    recheckMs: 5,
    signal: controller.signal,
  });
  assert.equal(resumed, false);
  assert.ok(calls >= 3, `rechecked ${calls} times`);
});

Deno.test("waitForNewCredentials() rejects a recheck interval that is not positive", async () => {
  await assert.rejects(
    waitForNewCredentials(passwordCredentials("a", "b"), {
      recheckMs: 0,
      signal: new AbortController().signal,
    }),
    InvalidArgumentError,
  );
});
