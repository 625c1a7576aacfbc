import assert from "node:assert/strict";
import { assessClockSkew, assessVersion, parseInfo } from "../src/doctor/redis_checks.ts";
import { assessExpiry } from "../src/doctor/token_checks.ts";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { startFakeGoogle } from "./harness/fake_google.ts";
import { storeConsentedToken } from "./harness/oauth_consent.ts";
import { startRedis } from "./harness/redis_server.ts";
import { pipelineEnv } from "./harness/pipeline_env.ts";

const USER = "alice@example.test";

interface CheckJson {
  name: string;
  status: string;
  detail: string;
  fix: string | null;
}

function imapEnv(port: number): Record<string, string> {
  return pipelineEnv({ imapPort: port, user: USER });
}

function byName(stdout: string): Map<string, CheckJson> {
  const report = JSON.parse(stdout) as { checks: CheckJson[] };
  return new Map(report.checks.map((check) => [check.name, check]));
}

Deno.test("doctor fails on maxmemory-policy allkeys-lru and prints the setting and its fix", async () => {
  await using redis = await startRedis({ args: ["--maxmemory-policy", "allkeys-lru"] });
  await using dovecot = await startDovecot();
  const result = await runIngest(["doctor"], {
    env: { REDIS_URL: redis.url, ...imapEnv(dovecot.port) },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /FAIL\s+redis\.maxmemory_policy\s+maxmemory-policy is allkeys-lru/);
  assert.match(result.stdout, /redis-cli -u "\$REDIS_URL" CONFIG SET maxmemory-policy noeviction/);
  assert.match(result.stdout, /redis\.conf: maxmemory-policy noeviction/);
  assert.match(result.stdout, /NOT ready/);
});

Deno.test("doctor exits 0 against a correctly configured Redis and Dovecot", async () => {
  await using redis = await startRedis({
    args: ["--appendonly", "yes", "--maxmemory-policy", "noeviction"],
  });
  await using dovecot = await startDovecot();
  const result = await runIngest(["doctor", "--json"], {
    env: { REDIS_URL: redis.url, ...imapEnv(dovecot.port) },
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.ok, true);
  assert.equal(report.summary.fail, 0);
  const checks = byName(result.stdout);
  for (const name of ["redis.persistence", "redis.maxmemory_policy", "imap.login", "imap.idle"]) {
    assert.equal(checks.get(name)?.status, "pass", name);
  }
  assert.equal(checks.get("token.refresh")?.status, "skip");
  assert.deepEqual(Object.keys(report.checks[0]), ["name", "status", "detail", "fix"]);
});

Deno.test("doctor reports a missing mailbox and a wrong password as failures", async () => {
  await using redis = await startRedis({
    args: ["--appendonly", "yes", "--maxmemory-policy", "noeviction"],
  });
  await using dovecot = await startDovecot();
  const missing = await runIngest(["doctor", "--json"], {
    env: { REDIS_URL: redis.url, ...imapEnv(dovecot.port), IMAP_MAILBOX: "INBOX,Nowhere" },
  });
  assert.equal(missing.code, 1);
  assert.match(byName(missing.stdout).get("imap.mailboxes")!.detail, /Nowhere/);
  const wrong = await runIngest(["doctor", "--json"], {
    env: { REDIS_URL: redis.url, ...imapEnv(dovecot.port), IMAP_PASSWORD: "wrong" },
  });
  assert.equal(wrong.code, 1);
  const login = byName(wrong.stdout).get("imap.login")!;
  assert.equal(login.status, "fail");
  assert.match(login.fix ?? "", /IMAP_PASSWORD/);
});

Deno.test("doctor never hangs on servers that accept connections but never answer", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const port = listener.addr.port;
    const result = await runIngest(["doctor", "--json", "--timeout", "1"], {
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, ...imapEnv(port) },
    });
    assert.equal(result.code, 1);
    const checks = byName(result.stdout);
    assert.equal(checks.get("redis.reachable")?.status, "fail");
    assert.equal(checks.get("imap.reachable")?.status, "fail");
    assert.match(checks.get("imap.reachable")!.detail, /within 1000 ms/);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of held) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }
});

Deno.test("doctor refreshes the OAuth2 token and logs in to Dovecot with it", async () => {
  await using google = await startFakeGoogle({ email: USER });
  await using redis = await startRedis({
    args: ["--appendonly", "yes", "--maxmemory-policy", "noeviction"],
  });
  await using dovecot = await startDovecot({ oauth2: { introspectionUrl: google.tokeninfoUrl } });
  const dir = await Deno.makeTempDir({ prefix: "ingest-doctor-" });
  try {
    const env: Record<string, string> = {
      ...google.env,
      ...imapEnv(dovecot.port),
      IMAP_AUTH: "oauth2",
      REDIS_URL: redis.url,
      GOOGLE_TOKEN_FILE: `${dir}/token.json`,
      INGEST_TOKEN_KEY: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
    };
    delete env.IMAP_PASSWORD;
    await storeConsentedToken(env, USER);
    const before = google.counters.refresh;
    const result = await runIngest(["doctor", "--json"], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(google.counters.refresh, before + 1);
    const checks = byName(result.stdout);
    for (const name of ["token.file", "token.present", "token.refresh", "token.expiry"]) {
      assert.equal(checks.get(name)?.status, "pass", `${name}: ${checks.get(name)?.detail}`);
    }
    assert.match(checks.get("imap.login")!.detail, /with OAuth2/);

    google.invalidGrant = true;
    const refused = await runIngest(["doctor", "--json"], { env });
    assert.equal(refused.code, 1);
    const refresh = byName(refused.stdout).get("token.refresh")!;
    assert.equal(refresh.status, "fail");
    assert.equal(refresh.fix, `ingest auth setup --account ${USER}`);
    assert.equal(byName(refused.stdout).get("imap.login")?.status, "skip");

    await Deno.chmod(`${dir}/token.json`, 0o644);
    const loose = await runIngest(["doctor", "--json"], { env });
    assert.equal(loose.code, 1);
    assert.equal(byName(loose.stdout).get("token.file")?.fix, `chmod 600 ${dir}/token.json`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("doctor judges Redis versions, clock skew and refresh-token expiry", () => {
  assert.equal(assessVersion(parseInfo("# Server\r\nredis_version:7.0.15\r\n")).status, "pass");
  assert.equal(assessVersion(parseInfo("redis_version:6.0.9\r\n")).status, "fail");
  assert.match(assessVersion(parseInfo("redis_version:4.0.1\r\n")).detail, /no streams/);
  assert.equal(assessClockSkew(10_000, 10_000, 10_010).status, "pass");
  assert.equal(assessClockSkew(20_000, 10_000, 10_010).status, "warn");
  assert.equal(assessClockSkew(10_000 + 6 * 60_000, 10_000, 10_010).status, "fail");
  const now = Date.UTC(2025, 0, 1);
  assert.equal(assessExpiry(USER, now + 3600_000, undefined, now).status, "pass");
  assert.equal(assessExpiry(USER, now + 3600_000, now + 3600_000, now).status, "warn");
  assert.equal(assessExpiry(USER, now + 3600_000, now - 1, now).status, "fail");
});

Deno.test("doctor rejects a bad --timeout with a usage error", async () => {
  const result = await runIngest(["doctor", "--timeout", "soon"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--timeout/);
});
