import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { startFakeGoogle } from "./harness/fake_google.ts";
import { storeConsentedToken } from "./harness/oauth_consent.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";

interface CheckJson {
  name: string;
  status: string;
  detail: string;
  fix: string | null;
}

function byName(stdout: string): Map<string, CheckJson> {
  const report = JSON.parse(stdout) as { checks: CheckJson[] };
  return new Map(report.checks.map((check) => [check.name, check]));
}

const AFTER_LOGIN = ["imap.idle", "imap.condstore", "imap.gmail", "imap.mailboxes"];

Deno.test("doctor skips the checks that need a login when the login fails, instead of judging pre-login capabilities", async () => {
  await using redis = await startRedis();
  await using dovecot = await startDovecot();
  const result = await runIngest(["doctor", "--json"], {
    env: pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url, password: "wrong" }),
  });
  assert.equal(result.code, 1);
  const checks = byName(result.stdout);
  assert.equal(checks.get("imap.login")?.status, "fail");
  for (const name of AFTER_LOGIN) {
    assert.deepEqual(
      [checks.get(name)?.status, checks.get(name)?.detail],
      ["skip", "skipped: login failed"],
      name,
    );
  }
  assert.doesNotMatch(result.stdout, /before login/);
});

Deno.test("doctor on an encrypted token file without INGEST_TOKEN_KEY fails on the key and never calls the file unencrypted", async () => {
  await using google = await startFakeGoogle({ email: TEST_USER });
  await using redis = await startRedis();
  await using dovecot = await startDovecot({ oauth2: { introspectionUrl: google.tokeninfoUrl } });
  const dir = await Deno.makeTempDir({ prefix: "ingest-doctor-key-" });
  try {
    const env: Record<string, string> = {
      ...google.env,
      ...pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url }),
      IMAP_AUTH: "oauth2",
      GOOGLE_TOKEN_FILE: `${dir}/token.json`,
    };
    delete env.IMAP_PASSWORD;
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    await storeConsentedToken({ ...env, INGEST_TOKEN_KEY: key }, TEST_USER);
    const result = await runIngest(["doctor", "--json"], { env });
    assert.equal(result.code, 1);
    const checks = byName(result.stdout);
    assert.equal(checks.get("token.file")?.status, "fail");
    assert.match(checks.get("token.file")!.detail, /encrypted but INGEST_TOKEN_KEY is not set/);
    assert.doesNotMatch(result.stdout + result.stderr, /unencrypted/);
    for (const name of AFTER_LOGIN) assert.equal(checks.get(name)?.status, "skip", name);
    const info = await runIngest(["auth", "info"], { env });
    assert.equal(info.code, 1);
    assert.match(info.stderr, /TOKEN_KEY_MISSING/);
    assert.doesNotMatch(info.stderr, /unencrypted/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
