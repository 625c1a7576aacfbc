/**
 * `ingest doctor` with `TOKEN_STORE=redis`: it checks the token in Redis
 * (present, refreshable, IMAP login with it against Dovecot), and when Redis
 * is down it reports the token checks as failed instead of stopping.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { openRedisTokenStore } from "../src/auth/redis_token_store.ts";
import { encodeBase64 } from "../src/auth/token_crypto.ts";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { startFakeGoogle } from "./harness/fake_google.ts";
import { storeConsentedToken } from "./harness/oauth_consent.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";

function checksOf(stdout: string): Map<string, { status: string; detail: string }> {
  const report = JSON.parse(stdout) as {
    checks: { name: string; status: string; detail: string }[];
  };
  return new Map(report.checks.map((check) => [check.name, check]));
}

Deno.test("doctor with TOKEN_STORE=redis checks the token stored in Redis and logs in with it", async () => {
  await using google = await startFakeGoogle({ email: TEST_USER });
  await using redis = await startRedis();
  await using dovecot = await startDovecot({ oauth2: { introspectionUrl: google.tokeninfoUrl } });
  const key = encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
  const env: Record<string, string> = {
    ...google.env,
    ...pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url }),
    IMAP_AUTH: "oauth2",
    TOKEN_STORE: "redis",
    INGEST_TOKEN_KEY: key,
    GOOGLE_TOKEN_FILE: "/nonexistent/ingest/token.json",
  };
  delete env.IMAP_PASSWORD;
  const client = new Redis(redis.url);
  try {
    await storeConsentedToken(env, TEST_USER, openRedisTokenStore({ redis: client, key }));
  } finally {
    client.disconnect();
  }
  const result = await runIngest(["doctor", "--json"], { env });
  const checks = checksOf(result.stdout);
  assert.deepEqual(
    [checks.get("token.file")?.status, checks.get("token.file")?.detail],
    ["pass", "redis key ingest_tokens:{fleet}, encrypted (AES-256-GCM)"],
  );
  for (const name of ["token.present", "token.refresh", "imap.login"]) {
    assert.equal(checks.get(name)?.status, "pass", `${name}: ${checks.get(name)?.detail}`);
  }
});

Deno.test("doctor with TOKEN_STORE=redis and Redis down reports the token checks failed, not a crash", async () => {
  const url = "redis://127.0.0.1:1"; // a privileged port nothing listens on
  const result = await runIngest(["doctor", "--json", "--timeout", "2"], {
    env: {
      REDIS_URL: url,
      IMAP_HOST: "127.0.0.1",
      IMAP_PORT: "1",
      IMAP_TLS: "false",
      IMAP_AUTH: "oauth2",
      IMAP_USER: TEST_USER,
      TOKEN_STORE: "redis",
      INGEST_TOKEN_KEY: encodeBase64(crypto.getRandomValues(new Uint8Array(32))),
      GOOGLE_CLIENT_ID: "id",
      GOOGLE_CLIENT_SECRET: "secret",
    },
  });
  assert.equal(result.code, 1, result.stderr);
  const checks = checksOf(result.stdout);
  assert.equal(checks.get("redis.reachable")?.status, "fail");
  const tokenFile = checks.get("token.file");
  assert.equal(tokenFile?.status, "fail");
  assert.doesNotMatch(tokenFile!.detail, /gmail_token\.json/, "not the file: the Redis store");
});
