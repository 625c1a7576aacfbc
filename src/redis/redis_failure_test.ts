import assert from "node:assert/strict";
import { ReplyError } from "ioredis";
import { RedisError } from "../errors.ts";
import {
  classifyRedisFailure,
  describeRedisFailure,
  isRedisOom,
  OOM_FIX,
  redisFailureError,
  redisFailureKind,
} from "./redis_failure.ts";

const OOM_REPLY = "OOM command not allowed when used memory > 'maxmemory'.";

Deno.test("redisFailureKind() names an OOM reply, also from a script and in a cause chain", () => {
  assert.equal(redisFailureKind(new ReplyError(OOM_REPLY)), "oom");
  assert.equal(
    redisFailureKind(new ReplyError(`${OOM_REPLY} script: aadf9e, on @user_script:1.`)),
    "oom",
  );
  const wrapped = new RedisError("REDIS_UNREACHABLE", "commit failed", {
    cause: new ReplyError(OOM_REPLY),
  });
  assert.equal(redisFailureKind(wrapped), "oom");
  assert.ok(isRedisOom(wrapped));
});

Deno.test("redisFailureKind() tells outages, loading, read-only and auth apart", () => {
  assert.equal(redisFailureKind(new Error("connect ECONNREFUSED 127.0.0.1:1")), "unreachable");
  assert.equal(redisFailureKind(new Error("Connection is closed.")), "unreachable");
  assert.equal(
    redisFailureKind(new Error("Reached the max retries per request limit (which is 2).")),
    "unreachable",
  );
  assert.equal(redisFailureKind(new ReplyError("LOADING Redis is loading")), "loading");
  assert.equal(redisFailureKind(new ReplyError("READONLY You can't write")), "readonly");
  assert.equal(
    redisFailureKind(new ReplyError("NOPERM this user has no permissions")),
    "permission",
  );
  assert.equal(
    redisFailureKind(new ReplyError("WRONGPASS invalid username-password pair")),
    "auth",
  );
  assert.equal(
    redisFailureKind(new Error('Protocol error, got "H" as reply type byte. Please report this.')),
    "not_redis",
  );
  assert.equal(redisFailureKind(new ReplyError("ERR wrong number of arguments")), "other");
  assert.equal(redisFailureKind(new Error("the word OOM inside is not a reply")), "other");
  assert.ok(!isRedisOom(new Error("connect ECONNREFUSED")));
});

Deno.test("redisFailureKind() reads a cluster still settling its slots as busy, which is retried", () => {
  for (const reply of ["CLUSTERDOWN The cluster is down", "TRYAGAIN Multiple keys request"]) {
    assert.equal(redisFailureKind(new ReplyError(reply)), "busy");
  }
  // What ioredis' Cluster throws once it has followed 16 MOVED replies without landing.
  const redirections = new Error(
    "Too many Cluster redirections. Last error: ReplyError: MOVED 10308 127.0.0.1:45587",
  );
  assert.equal(redisFailureKind(redirections), "busy");
  assert.equal(classifyRedisFailure(redirections).retryable, true);
});

Deno.test("redisFailureError() names OOM with the fix, and keeps IngestErrors as they are", () => {
  const error = redisFailureError("commit", new ReplyError(OOM_REPLY));
  assert.ok(error instanceof RedisError);
  assert.equal(error.code, "REDIS_OOM");
  assert.ok(error.retryable);
  assert.match(error.message, /^Redis commit failed: Redis is out of memory/);
  assert.ok(error.message.includes("CONFIG SET maxmemory"));
  const down = redisFailureError("GET cursor", new Error("connect ECONNREFUSED 127.0.0.1:1"));
  assert.equal(down.code, "REDIS_UNREACHABLE");
  assert.match(down.message, /unreachable/);
  const known = new RedisError("REDIS_BAD_REPLY", "odd reply");
  assert.equal(redisFailureError("commit", known), known);
  assert.equal(redisFailureKind(error), "oom", "the built error classifies as what it says");
});

Deno.test("describeRedisFailure() adds the fix to a raw OOM reply only once", () => {
  const raw = describeRedisFailure(new ReplyError(OOM_REPLY));
  assert.ok(raw.includes(OOM_FIX));
  const built = describeRedisFailure(redisFailureError("XACK", new ReplyError(OOM_REPLY)));
  assert.equal(built.split(OOM_FIX).length, 2);
  assert.equal(describeRedisFailure(new Error("boom")), "boom");
  assert.equal(classifyRedisFailure(new Error("boom")).fix, "");
});
