import assert from "node:assert/strict";
import { AuthError, RedisError } from "../errors.ts";
import { decideLaneFailure } from "./backfill_failure.ts";
import { DEFAULT_RETRY_POLICY } from "./failure_policy.ts";
import { CursorMovedError, LeaseLostError } from "./follower_errors.ts";

const options = { once: false, retry: DEFAULT_RETRY_POLICY, random: () => 0.5 };
const gmailNo = (text: string) =>
  Object.assign(new Error("Command failed"), { responseStatus: "NO", responseText: text });

Deno.test("decideLaneFailure() backs a lane off long after [THROTTLED], short after a reset", () => {
  const throttled = decideLaneFailure(gmailNo("[THROTTLED] Too many commands"), 0, options);
  assert.deepEqual(throttled, { action: "retry", delayMs: 22_500, kind: "throttled" });
  const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
  assert.deepEqual(decideLaneFailure(reset, 0, options), {
    action: "retry",
    delayMs: 750,
    kind: "transient",
  });
});

Deno.test("decideLaneFailure() ends the lane when the live path must decide", () => {
  assert.deepEqual(decideLaneFailure(new LeaseLostError(), 0, options), { action: "end" });
  const revoked = new AuthError("IMAP_LOGIN_REJECTED", "rejected", { reauthRequired: true });
  assert.deepEqual(decideLaneFailure(revoked, 0, options), { action: "end" });
  assert.deepEqual(decideLaneFailure(new CursorMovedError(), 3, options), { action: "again" });
});

Deno.test("decideLaneFailure() hands every other failure to the supervisor with --once", () => {
  const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
  assert.deepEqual(decideLaneFailure(reset, 0, { ...options, once: true }), { action: "throw" });
});

Deno.test("decideLaneFailure() retries a Redis outage within 10 s however long it lasts", () => {
  const down = new RedisError("REDIS_UNREACHABLE", "Connection is closed");
  const decision = decideLaneFailure(down, 12, options);
  assert.deepEqual(decision, { action: "retry", delayMs: 10_000, kind: "transient" });
});
