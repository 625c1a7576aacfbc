import assert from "node:assert/strict";
import { AuthError, ConfigError, ImapError, RedisError } from "../errors.ts";
import { classifyFailure, decideAfterFailure, DEFAULT_RETRY_POLICY } from "./failure_policy.ts";

const half = () => 0.5;

Deno.test("a rejected IMAP login and a dead grant park the account; they never back off as throttling", () => {
  const rejected = new AuthError("IMAP_LOGIN_REJECTED", "rejected", {
    cause: Object.assign(new Error("Command failed"), { authenticationFailed: true }),
  });
  const dead = new AuthError("REAUTH_REQUIRED", "invalid_grant", { reauthRequired: true });
  const raw = Object.assign(new Error("Authentication failed"), {
    responseText: "[AUTHENTICATIONFAILED] Invalid credentials (Failure)",
  });
  for (const error of [rejected, dead, raw]) {
    assert.equal(classifyFailure(error), "reauth", error.message);
    assert.equal(decideAfterFailure(error, 0).action, "park");
  }
});

Deno.test("token-store and OAuth-client problems stop the mailbox as configuration problems", () => {
  for (
    const code of [
      "TOKEN_FILE_PERMISSIONS",
      "TOKEN_FILE_UNREADABLE",
      "TOKEN_KEY_MISMATCH",
      "TOKEN_KEY_MISSING",
      "OAUTH_INVALID_CLIENT",
    ] as const
  ) {
    const decision = decideAfterFailure(new AuthError(code, `${code}: fix it`), 3);
    assert.deepEqual(decision, { action: "stop", reason: `${code}: fix it` });
  }
  assert.equal(
    decideAfterFailure(new ConfigError(["GOOGLE_CLIENT_ID is missing"]), 0).action,
    "stop",
  );
  const missing = new ImapError("IMAP_MAILBOX_NOT_FOUND", "no such mailbox", { retryable: false });
  assert.equal(decideAfterFailure(missing, 0).action, "stop");
  assert.equal(decideAfterFailure(new ImapError("IMAP_CONNECTION", "reset"), 0).action, "retry");
});

Deno.test("an unreachable OAuth provider and Redis retry with ordinary backoff", () => {
  const down = new AuthError("OAUTH_UNAVAILABLE", "503", { retryable: true });
  assert.deepEqual(decideAfterFailure(down, 0, undefined, half), {
    action: "retry",
    delayMs: 750,
    kind: "transient",
  });
  const redis = new RedisError("REDIS_UNREACHABLE", "[THROTTLED] wording does not matter");
  assert.equal(classifyFailure(redis), "transient");
});

Deno.test("throttling backs off long, within its ceiling, for every attempt", () => {
  const throttled = new ImapError("IMAP_THROTTLED", "NO [THROTTLED]");
  for (let attempt = 0; attempt < 60; attempt++) {
    const decision = decideAfterFailure(throttled, attempt, undefined, () => 0.999_999);
    assert.ok(decision.action === "retry" && decision.kind === "throttled");
    assert.ok(decision.delayMs <= DEFAULT_RETRY_POLICY.throttledCapMs, `attempt ${attempt}`);
    const plain = decideAfterFailure(
      new Error("socket hang up"),
      attempt,
      undefined,
      () => 0.999_999,
    );
    assert.ok(plain.action === "retry" && plain.delayMs <= DEFAULT_RETRY_POLICY.capMs);
  }
});
