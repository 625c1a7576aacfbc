import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { credentialsFor } from "../src/auth/token_provider.ts";
import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/log/logger.ts";
import { hashedAccountLabel } from "../src/metrics/account_label.ts";
import { startProducer } from "../src/producer/producer.ts";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { startFakeGoogle } from "./harness/fake_google.ts";
import { realisticMessage } from "./harness/mail.ts";
import { parseMetrics, sampleValue } from "./harness/metrics_text.ts";
import { storeConsentedToken } from "./harness/oauth_consent.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { freePort } from "./harness/ports.ts";
import { startRedis } from "./harness/redis_server.ts";

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function randomKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

Deno.test("IMAP_PASSWORD=wrong: produce --once exits 1 within seconds naming the fix, without backing off", async () => {
  await using redis = await startRedis();
  await using dovecot = await startDovecot();
  const started = performance.now();
  const result = await runIngest(["produce", "--once"], {
    env: pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url, password: "wrong" }),
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(`wrong password: exit ${result.code} after ${seconds.toFixed(2)} s`);
  assert.equal(result.code, 1, result.stderr);
  assert.ok(seconds < 10, `took ${seconds} s`);
  assert.match(result.stderr, /error: mailbox INBOX parked: .*IMAP_PASSWORD/);
  assert.doesNotMatch(result.stderr, /throttled|retry_in_ms/);
  assert.doesNotMatch(
    result.stderr.split("\n").filter((l) => l.startsWith("{")).join("\n"),
    /alice@/,
  );
});

Deno.test("a long-running producer with a refused password parks the account: needs_reauth in /status and metrics, /ready 503", async () => {
  await using redis = await startRedis();
  await using dovecot = await startDovecot();
  const port = freePort();
  const controller = new AbortController();
  const run = runIngest(["produce"], {
    env: {
      ...pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url, password: "wrong" }),
      HEALTH_PORT: String(port),
    },
    signal: controller.signal,
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    let status = "";
    await waitFor("needs_reauth in /status", async () => {
      status = await fetch(`${base}/status`).then((r) => r.text()).catch(() => "");
      return status.includes('"needs_reauth"');
    });
    const body = JSON.parse(status);
    const mailbox = body.producer.mailboxes[0];
    assert.equal(mailbox.state, "needs_reauth");
    assert.equal(mailbox.parked, true);
    assert.match(mailbox.last_error.message, /IMAP_PASSWORD/);
    assert.equal(body.producer.account, hashedAccountLabel(TEST_USER));
    assert.doesNotMatch(status, new RegExp(TEST_USER), "/status shows the address");
    const ready = await fetch(`${base}/ready`);
    await ready.body?.cancel();
    assert.equal(ready.status, 503);
    const metrics = parseMetrics(await fetch(`${base}/metrics`).then((r) => r.text()));
    const state = (name: string) =>
      sampleValue(metrics, "email_ingestion_imap_connection_state", {
        account: hashedAccountLabel(TEST_USER),
        mailbox: "INBOX",
        state: name,
      });
    assert.equal(state("needs_reauth"), 1);
    assert.equal(state("disconnected"), 0);
    const logins = (await Deno.readTextFile(`${dovecot.dir}/dovecot.log`).catch(() => ""))
      .split("\n").filter((l) => /auth failed|password mismatch/i.test(l)).length;
    console.log(`failed logins seen by Dovecot while parked: ${logins}`);
  } finally {
    controller.abort();
  }
  const result = await run;
  // Stopped while parked: the account still needs new credentials, so the exit says so.
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /error: mailbox INBOX parked: .*IMAP_PASSWORD/);
  assert.equal(
    result.stderr.split("\n").filter((l) => l.includes("account parked")).length,
    1,
    "the refused login was not retried",
  );
});

Deno.test("invalid_grant parks the account; a new consent resumes it without a restart", async () => {
  await using google = await startFakeGoogle({ email: TEST_USER });
  await using redis = await startRedis();
  await using dovecot = await startDovecot({ oauth2: { introspectionUrl: google.tokeninfoUrl } });
  await dovecot.append(TEST_USER, "INBOX", await realisticMessage(1));
  const dir = await Deno.makeTempDir({ prefix: "ingest-reauth-" });
  const env: Record<string, string> = {
    ...google.env,
    ...pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url }),
    IMAP_AUTH: "oauth2",
    GOOGLE_TOKEN_FILE: `${dir}/token.json`,
    INGEST_TOKEN_KEY: randomKey(),
  };
  delete env.IMAP_PASSWORD;
  const client = new Redis(redis.url);
  try {
    await storeConsentedToken(env, TEST_USER);
    // The grant dies at the provider: the stored access token stops working, so the login
    // fails, the forced refresh meets invalid_grant, and the account parks.
    google.invalidGrant = true;
    google.expireAccessTokens();
    const started = performance.now();
    const once = await runIngest(["produce", "--once"], { env });
    assert.equal(once.code, 1, once.stderr);
    assert.ok(performance.now() - started < 10_000);
    assert.match(once.stderr, /parked: .*invalid_grant.*ingest auth setup --account/s);

    const config = loadConfig({ env });
    const controller = new AbortController();
    const producer = startProducer({
      config,
      account: TEST_USER,
      credentials: credentialsFor(config, TEST_USER, silentLogger),
      redis: client,
      logger: silentLogger,
      signal: controller.signal,
      reauthRecheckMs: 100,
    });
    try {
      await waitFor("needs_reauth", () => producer.status().mailboxes[0]!.state === "needs_reauth");
      assert.equal(producer.ready().ready, false);
      const refreshes = google.counters.refresh;
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(google.counters.refresh, refreshes, "no refresh while parked");
      google.invalidGrant = false;
      await storeConsentedToken(env, TEST_USER);
      await waitFor(
        "the resumed sync",
        () => producer.status().mailboxes[0]!.cursor?.lastUid === 1,
      );
      assert.equal(producer.status().mailboxes[0]!.parked, false);
    } finally {
      controller.abort();
    }
    assert.equal((await producer.done).ok, true);
  } finally {
    client.disconnect();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("token-file problems are configuration errors: exit 2 at once with the fix", async () => {
  await using google = await startFakeGoogle({ email: TEST_USER });
  await using redis = await startRedis();
  const dir = await Deno.makeTempDir({ prefix: "ingest-tokenfile-" });
  const env: Record<string, string> = {
    ...google.env,
    ...pipelineEnv({ imapPort: freePort(), redisUrl: redis.url }),
    IMAP_AUTH: "oauth2",
    GOOGLE_TOKEN_FILE: `${dir}/token.json`,
  };
  delete env.IMAP_PASSWORD;
  try {
    await storeConsentedToken(env, TEST_USER);
    await Deno.chmod(`${dir}/token.json`, 0o644);
    for (const args of [["produce", "--once"], ["produce"]]) {
      const started = performance.now();
      const loose = await runIngest(args, { env });
      assert.equal(loose.code, 2, loose.stderr);
      assert.ok(performance.now() - started < 10_000);
      assert.match(loose.stderr, new RegExp(`chmod 600 ${dir}/token\\.json`));
    }

    await Deno.remove(`${dir}/token.json`);
    await Deno.mkdir(`${dir}/token.json`);
    const directory = await runIngest(["produce", "--once"], { env });
    assert.equal(directory.code, 2, directory.stderr);
    assert.match(directory.stderr, /not a regular file/);

    await Deno.remove(`${dir}/token.json`);
    await storeConsentedToken({ ...env, INGEST_TOKEN_KEY: randomKey() }, TEST_USER);
    const wrongKey = await runIngest(["produce", "--once"], {
      env: { ...env, INGEST_TOKEN_KEY: randomKey() },
    });
    assert.equal(wrongKey.code, 2, wrongKey.stderr);
    assert.match(wrongKey.stderr, /INGEST_TOKEN_KEY/);
    assert.doesNotMatch(wrongKey.stderr, /throttled/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
