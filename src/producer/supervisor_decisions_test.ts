import assert from "node:assert/strict";
import { AuthError, ConfigError, ImapError, RedisError } from "../errors.ts";
import { redisFailureError } from "../redis/redis_failure.ts";
import { decideAfterFailure, DEFAULT_RETRY_POLICY } from "./failure_policy.ts";
import {
  decideReconnect,
  decideRedisRetry,
  REDIS_RETRY_CAP_MS,
  redisFailureLog,
} from "./supervisor_decisions.ts";

const half = () => 0.5;
const dropped = new ImapError("IMAP_CONNECTION", "connection reset");
const base = {
  retry: DEFAULT_RETRY_POLICY,
  once: false,
  onceMaxAttempts: 5,
  random: half,
};

Deno.test("decideReconnect() backs off further with each failure of a connection that made no progress", () => {
  const first = decideReconnect({ ...base, error: dropped, attempt: 0, progressed: false });
  const fourth = decideReconnect({ ...base, error: dropped, attempt: 3, progressed: false });
  assert.equal(first.attempts, 1);
  assert.equal(fourth.attempts, 4);
  assert.equal(first.decision.action, "retry");
  assert.equal(fourth.decision.action, "retry");
  if (first.decision.action !== "retry" || fourth.decision.action !== "retry") return;
  assert.ok(fourth.decision.delayMs > first.decision.delayMs);
  assert.deepEqual(fourth.decision, decideAfterFailure(dropped, 3, DEFAULT_RETRY_POLICY, half));
});

Deno.test("decideReconnect() starts the backoff anew after a connection that made progress", () => {
  const next = decideReconnect({ ...base, error: dropped, attempt: 7, progressed: true });
  assert.equal(next.attempts, 1);
  assert.deepEqual(next.decision, decideAfterFailure(dropped, 0, DEFAULT_RETRY_POLICY, half));
  assert.equal(next.giveUp, false);
});

Deno.test("decideReconnect() gives up with --once after onceMaxAttempts failures in a row, not before", () => {
  const once = { ...base, once: true, error: dropped, progressed: false };
  assert.equal(decideReconnect({ ...once, attempt: 3 }).giveUp, false);
  assert.equal(decideReconnect({ ...once, attempt: 4 }).giveUp, true);
  // Progress resets the count, so a dropping connection that keeps committing carries on.
  assert.equal(decideReconnect({ ...once, attempt: 4, progressed: true }).giveUp, false);
  // Without --once it never gives up.
  assert.equal(
    decideReconnect({ ...base, error: dropped, attempt: 50, progressed: false }).giveUp,
    false,
  );
});

Deno.test("decideReconnect() parks on refused credentials and stops on configuration problems, never giving up as a retry", () => {
  const refused = new AuthError("IMAP_LOGIN_REJECTED", "rejected");
  const parked = decideReconnect({
    ...base,
    once: true,
    error: refused,
    attempt: 9,
    progressed: false,
  });
  assert.equal(parked.decision.action, "park");
  assert.equal(parked.giveUp, false);
  const config = new ConfigError(["GOOGLE_CLIENT_ID is missing"]);
  const stopped = decideReconnect({ ...base, error: config, attempt: 0, progressed: false });
  assert.equal(stopped.decision.action, "stop");
});

Deno.test("decideRedisRetry() caps the wait at 10 s however many failures came before", () => {
  const down = new RedisError("REDIS_UNREACHABLE", "connect ECONNREFUSED");
  const first = decideRedisRetry(down, 0, base);
  assert.equal(first.giveUp, false);
  if (first.giveUp) return;
  assert.ok(first.delayMs > 0 && first.delayMs <= REDIS_RETRY_CAP_MS);
  const late = decideRedisRetry(down, 30, base);
  assert.deepEqual(late, { giveUp: false, delayMs: REDIS_RETRY_CAP_MS });
  assert.equal(REDIS_RETRY_CAP_MS, 10_000);
});

Deno.test("decideRedisRetry() gives up with --once on the onceMaxAttempts-th failure in a row", () => {
  const down = new RedisError("REDIS_UNREACHABLE", "connect ECONNREFUSED");
  const once = { ...base, once: true };
  assert.equal(decideRedisRetry(down, 3, once).giveUp, false);
  assert.equal(decideRedisRetry(down, 4, once).giveUp, true);
  assert.equal(decideRedisRetry(down, 4, base).giveUp, false);
});

Deno.test("redisFailureLog() tells a full Redis from one that is down, with the fix for OOM", () => {
  const oom = redisFailureError(
    "commit",
    new Error("OOM command not allowed when used memory > 'maxmemory'."),
  );
  const full = redisFailureLog(oom);
  assert.match(full.message, /out of memory/);
  assert.equal(full.fields.redis_failure, "oom");
  assert.match(full.fields.fix ?? "", /maxmemory/);
  const down = redisFailureLog(new RedisError("REDIS_UNREACHABLE", "connect ECONNREFUSED"));
  assert.equal(down.message, "redis unavailable: retrying the round");
  assert.equal(down.fields.redis_failure, "unreachable");
});
