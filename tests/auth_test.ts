import assert from "node:assert/strict";
import { runCli } from "../cli/main.ts";
import type { Runtime } from "../cli/runtime.ts";
import { loadConfig } from "../src/config/config.ts";
import { AuthError } from "../src/errors.ts";
import { silentLogger } from "../src/log/logger.ts";
import { createOAuthCredentials } from "../src/auth/token_provider.ts";
import { openTokenStore } from "../src/auth/token_store.ts";
import { ImapFlow } from "imapflow";
import { credentialsFor } from "../src/auth/token_provider.ts";
import { type CliResult, runIngest, spawnIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { type FakeGoogleOptions, startFakeGoogle } from "./harness/fake_google.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";

const ACCOUNT = "alice@example.test";

function randomKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

/** A fake provider, a private token directory and the env pointing ingest at both. */
async function fixture(options: FakeGoogleOptions & { key?: string | null } = {}) {
  const google = await startFakeGoogle(options);
  const dir = await Deno.makeTempDir({ prefix: "ingest-auth-test-" });
  const tokenFile = `${dir}/tokens/gmail_token.json`;
  const key = options.key === null ? undefined : options.key ?? randomKey();
  const env: Record<string, string> = {
    ...google.env,
    GOOGLE_TOKEN_FILE: tokenFile,
    ...(key === undefined ? {} : { INGEST_TOKEN_KEY: key }),
  };
  return {
    google,
    dir,
    tokenFile,
    key,
    env,
    config: () => loadConfig({ env }),
    async [Symbol.asyncDispose]() {
      await google.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const URL_LINE = /^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m;

/** `ingest <args>` in-process, with live stderr (for the consent URL) and pasteable stdin. */
function liveIngest(args: string[], env: Record<string, string>) {
  let stdout = "";
  let stderr = "";
  const url = Promise.withResolvers<string>();
  const lines: string[] = [];
  let waiting: ((line: string | null) => void) | undefined;
  const controller = new AbortController();
  const runtime: Runtime = {
    env: { LOG_FORMAT: "json", ...env },
    stdout: (text) => (stdout += text),
    stderr: (text) => {
      stderr += text;
      const found = URL_LINE.exec(stderr);
      if (found) url.resolve(found[1]!);
    },
    readLine: () =>
      lines.length > 0
        ? Promise.resolve(lines.shift()!)
        : new Promise((resolve) => (waiting = resolve)),
    interactive: false,
    stderrIsTerminal: false,
    signal: controller.signal,
  };
  const result = runCli(["--no-env-file", ...args], runtime).then(
    (code): CliResult => {
      url.reject(new Error(`exited (${code}) before printing a URL:\n${stderr}`));
      waiting?.(null);
      return { code, stdout, stderr };
    },
  );
  url.promise.catch(() => {});
  return {
    url: url.promise,
    result,
    paste(line: string) {
      if (waiting) {
        const resolve = waiting;
        waiting = undefined;
        resolve(line);
      } else lines.push(line);
    },
  };
}

/** Runs `auth setup` and completes consent by following the printed URL with fetch. */
async function setup(env: Record<string, string>, extra: string[] = []): Promise<CliResult> {
  const run = liveIngest(["auth", "setup", "--no-browser", "--json", ...extra], env);
  const page = await fetch(await run.url);
  await page.body?.cancel();
  return await run.result;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Reads lines from a child's stream until `pattern` matches one. */
async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  let text = "";
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended without ${pattern}:\n${text}`);
      text += value;
      const found = pattern.exec(text);
      if (found) return found[1]!;
    }
  } finally {
    reader.releaseLock();
  }
}

Deno.test("a new user completes auth setup with a plain HTTP client and gets an encrypted 0600 token file", async () => {
  await using f = await fixture();
  const child = spawnIngest(["auth", "setup", "--no-browser", "--json"], { env: f.env });
  const [stdoutTee, stdout] = child.stdout.tee();
  const output = new Response(stdoutTee).text();
  const url = await readUntil(child.stderr, URL_LINE);
  const page = await fetch(url); // follows the redirect to the loopback listener
  assert.equal(page.status, 200);
  assert.match(await page.text(), /close this tab/);
  const status = await child.status;
  await stdout.cancel();
  assert.equal(status.code, 0);
  const result = JSON.parse(await output);
  await assertMatchesSchema("auth_setup", result);
  assert.equal(result.account, ACCOUNT);
  assert.equal(result.encrypted, true);
  assert.ok(result.scopes.includes("https://mail.google.com/"));
  assert.equal(f.google.counters.codeExchange, 1);

  assert.equal((await Deno.stat(f.tokenFile)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(`${f.dir}/tokens`)).mode! & 0o777, 0o700);
  const text = await Deno.readTextFile(f.tokenFile);
  const [refreshToken] = f.google.liveRefreshTokens();
  assert.ok(refreshToken);
  assert.ok(!text.includes(refreshToken), "refresh token readable in the file");
  assert.doesNotMatch(text, /ya29\.|fake-refresh|alice@/);
});

Deno.test("auth info --json shows the account, its scopes and the file's protection, never a token", async () => {
  await using f = await fixture();
  assert.equal((await setup(f.env)).code, 0);
  const info = await runIngest(["auth", "info", "--json"], { env: f.env });
  assert.equal(info.code, 0, info.stderr);
  const report = JSON.parse(info.stdout);
  await assertMatchesSchema("auth_info", report);
  assert.deepEqual(report.token_file, {
    path: f.tokenFile,
    exists: true,
    mode: "0600",
    encrypted: true,
    key_configured: true,
  });
  assert.equal(report.accounts.length, 1);
  const [account] = report.accounts;
  assert.equal(account.account, ACCOUNT);
  assert.equal(account.refresh_token_present, true);
  assert.equal(account.access_token_expired, false);
  assert.deepEqual(account.scopes, ["https://mail.google.com/", "openid", "email"]);
  assert.equal(account.refresh_token_expires_at, null);
  assert.doesNotMatch(info.stdout + info.stderr, /ya29\.|fake-refresh/);
  const human = await runIngest(["auth", "info"], { env: f.env });
  assert.match(human.stdout, /mode 0600, encrypted/);
  assert.match(human.stdout, new RegExp(ACCOUNT));
  const missing = await runIngest(["auth", "info", "--account", "bob@example.test", "--json"], {
    env: f.env,
  });
  assert.equal(missing.code, 1);
  await assertMatchesSchema("auth_info", JSON.parse(missing.stdout));
  assert.match(missing.stderr, /ingest auth setup --account bob@example\.test/);
});

Deno.test("the redirect address pasted on stdin completes a --no-browser setup", async () => {
  await using f = await fixture();
  const run = liveIngest(["auth", "setup", "--no-browser"], f.env);
  const consent = await fetch(await run.url, { redirect: "manual" });
  const location = consent.headers.get("location");
  assert.ok(location?.startsWith("http://127.0.0.1:"));
  run.paste("not a url");
  run.paste(location!);
  const result = await run.result;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /not the address the browser was redirected to/);
  assert.match(result.stdout, /Stored the OAuth2 token of alice@example\.test/);
  assert.ok(await openTokenStore({ path: f.tokenFile, key: f.key }).load(ACCOUNT));
});

Deno.test("a callback with a wrong state fails with exit 1 and stores nothing", async () => {
  await using f = await fixture();
  f.google.stateOverride = "forged-state";
  const run = liveIngest(["auth", "setup", "--no-browser"], f.env);
  const page = await fetch(await run.url);
  assert.equal(page.status, 400);
  await page.body?.cancel();
  const result = await run.result;
  assert.equal(result.code, 1);
  assert.match(result.stderr, /SETUP_STATE_MISMATCH.*wrong `state`/);
  assert.equal(f.google.counters.codeExchange, 0);
  assert.equal(await exists(f.tokenFile), false);
});

Deno.test("refused consent (access_denied) fails with exit 1 and stores nothing", async () => {
  await using f = await fixture();
  f.google.denyConsent = true;
  const result = await setup(f.env);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Consent was refused \(error=access_denied\)/);
  assert.equal(await exists(f.tokenFile), false);
});

Deno.test("setup gives up after --timeout with exit 1 and stores nothing", async () => {
  await using f = await fixture();
  const result = await liveIngest(["auth", "setup", "--no-browser", "--timeout", "1"], f.env)
    .result;
  assert.equal(result.code, 1);
  assert.match(result.stderr, /No consent arrived within 1 s/);
  assert.equal(await exists(f.tokenFile), false);
  const bad = await runIngest(["auth", "setup", "--timeout", "soon"], { env: f.env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--timeout must be a whole number/);
});

Deno.test("setup without an OAuth client is a configuration error naming both settings", async () => {
  const result = await runIngest(["auth", "setup", "--no-browser"], { env: {} });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /GOOGLE_CLIENT_ID is required/);
  assert.match(result.stderr, /GOOGLE_CLIENT_SECRET is required/);
});

Deno.test("without INGEST_TOKEN_KEY setup and info work but warn and show how to make a key", async () => {
  await using f = await fixture({ key: null });
  const result = await setup(f.env);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /INGEST_TOKEN_KEY is not set.*\n.*openssl rand -base64 32/);
  assert.equal(JSON.parse(result.stdout).encrypted, false);
  const info = await runIngest(["auth", "info", "--json"], { env: f.env });
  assert.match(info.stderr, /openssl rand -base64 32/);
  assert.equal(JSON.parse(info.stdout).token_file.encrypted, false);
});

Deno.test("an app in Testing status gets a warning with the refresh token's death date", async () => {
  await using f = await fixture({ refreshTokenSeconds: 7 * 86_400 });
  const result = await setup(f.env);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stderr,
    /"Testing" status: this refresh token expires on \d{4}-\d\d-\d\dT.*\(in 7 days\)/,
  );
  assert.notEqual(JSON.parse(result.stdout).refresh_token_expires_at, null);
});

Deno.test("a token file readable by others is refused with the exact chmod, by info and setup", async () => {
  await using f = await fixture();
  assert.equal((await setup(f.env)).code, 0);
  await Deno.chmod(f.tokenFile, 0o640);
  const info = await runIngest(["auth", "info"], { env: f.env });
  assert.equal(info.code, 1);
  assert.ok(info.stderr.includes(`chmod 600 ${f.tokenFile}`), info.stderr);
  assert.match(info.stderr, /mode is 0640/);
  const again = liveIngest(["auth", "setup", "--no-browser"], f.env);
  const result = await again.result;
  assert.equal(result.code, 1);
  assert.doesNotMatch(result.stderr, URL_LINE); // refused before asking for consent
  assert.ok(result.stderr.includes(`chmod 600 ${f.tokenFile}`));
});

Deno.test("a wrong key or a tampered file gives a clear error, never garbage", async () => {
  await using f = await fixture();
  assert.equal((await setup(f.env)).code, 0);
  const wrong = await runIngest(["auth", "info", "--json"], {
    env: { ...f.env, INGEST_TOKEN_KEY: randomKey() },
  });
  assert.equal(wrong.code, 1);
  assert.equal(wrong.stdout, "");
  assert.match(wrong.stderr, /TOKEN_KEY_MISMATCH.*different INGEST_TOKEN_KEY/);
  const missing = await runIngest(["auth", "info"], {
    env: { ...f.env, INGEST_TOKEN_KEY: "" },
  });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /TOKEN_KEY_MISSING/);
  // The file is encrypted: no warning that it holds tokens unencrypted.
  assert.doesNotMatch(missing.stderr, /unencrypted/);

  const document = JSON.parse(await Deno.readTextFile(f.tokenFile));
  const bytes = Uint8Array.from(atob(document.encryption.ciphertext), (c) => c.charCodeAt(0));
  bytes[10] = (bytes[10] ?? 0) ^ 0x01;
  document.encryption.ciphertext = btoa(String.fromCharCode(...bytes));
  await Deno.writeTextFile(f.tokenFile, JSON.stringify(document), { mode: 0o600 });
  const tampered = await runIngest(["auth", "info", "--json"], { env: f.env });
  assert.equal(tampered.code, 1);
  assert.equal(tampered.stdout, "");
  assert.match(tampered.stderr, /TOKEN_FILE_TAMPERED.*fail integrity checks/);
});

Deno.test("an access token near expiry is refreshed and the new one is stored", async () => {
  // 60 s lifetime is inside the 5-minute margin: every get() needs a fresh token.
  await using f = await fixture({ accessTokenSeconds: 60 });
  assert.equal((await setup(f.env)).code, 0);
  const store = openTokenStore({ path: f.tokenFile, key: f.key });
  const before = await store.load(ACCOUNT);
  const outcomes: string[] = [];
  const provider = createOAuthCredentials({
    config: f.config(),
    account: ACCOUNT,
    logger: silentLogger,
    observer: { tokenRefresh: (_account, outcome) => outcomes.push(outcome) },
  });
  const credentials = await provider.get();
  assert.ok("accessToken" in credentials);
  assert.notEqual(credentials.accessToken, before?.accessToken);
  assert.ok(f.google.isValidAccessToken(credentials.accessToken));
  assert.equal(f.google.counters.refresh, 1);
  assert.deepEqual(outcomes, ["ok"]);
  const after = await store.load(ACCOUNT);
  assert.equal(after?.accessToken, credentials.accessToken);
  assert.equal(after?.refreshToken, before?.refreshToken);
});

Deno.test("concurrent requests for credentials make one refresh request", async () => {
  await using f = await fixture({ accessTokenSeconds: 60 });
  assert.equal((await setup(f.env)).code, 0);
  const provider = createOAuthCredentials({
    config: f.config(),
    account: ACCOUNT,
    logger: silentLogger,
  });
  const results = await Promise.all(Array.from({ length: 8 }, () => provider.get()));
  assert.equal(f.google.counters.refresh, 1);
  assert.equal(new Set(results.map((r) => "accessToken" in r && r.accessToken)).size, 1);
});

Deno.test("after a failed login a forced refresh replaces a token the provider stopped accepting", async () => {
  await using f = await fixture();
  assert.equal((await setup(f.env)).code, 0);
  const provider = createOAuthCredentials({
    config: f.config(),
    account: ACCOUNT,
    logger: silentLogger,
  });
  const first = await provider.get();
  assert.equal(f.google.counters.refresh, 0); // still valid: no request
  f.google.expireAccessTokens();
  assert.ok("accessToken" in first && !f.google.isValidAccessToken(first.accessToken));
  const second = await provider.get({ forceRefresh: true });
  assert.ok("accessToken" in second && f.google.isValidAccessToken(second.accessToken));
  assert.equal(f.google.counters.refresh, 1);
});

Deno.test("invalid_grant asks for ingest auth setup and does not retry against the provider", async () => {
  await using f = await fixture({ accessTokenSeconds: 60 });
  assert.equal((await setup(f.env)).code, 0);
  f.google.invalidGrant = true;
  const outcomes: string[] = [];
  const provider = createOAuthCredentials({
    config: f.config(),
    account: ACCOUNT,
    logger: silentLogger,
    observer: { tokenRefresh: (_account, outcome) => outcomes.push(outcome) },
  });
  for (let i = 0; i < 3; i++) {
    await assert.rejects(
      () => provider.get(),
      (error: unknown) =>
        error instanceof AuthError && error.reauthRequired &&
        error.message.includes("invalid_grant") &&
        error.message.includes(`Run: ingest auth setup --account ${ACCOUNT}`),
    );
  }
  assert.equal(f.google.counters.refresh, 1);
  assert.deepEqual(outcomes, ["error"]);
});

Deno.test("auth revoke revokes at the provider and leaves no token behind", async () => {
  await using f = await fixture();
  assert.equal((await setup(f.env)).code, 0);
  assert.equal(f.google.liveRefreshTokens().length, 1);
  const result = await runIngest(["auth", "revoke", "--json"], { env: f.env });
  assert.equal(result.code, 0, result.stderr);
  await assertMatchesSchema("auth_revoke", JSON.parse(result.stdout));
  assert.deepEqual(JSON.parse(result.stdout), {
    account: ACCOUNT,
    removed_locally: true,
    remote: "revoked",
    remote_error: null,
  });
  assert.deepEqual(f.google.liveRefreshTokens(), []);
  assert.equal(await exists(f.tokenFile), false);
  const again = await runIngest(["auth", "revoke", "--account", ACCOUNT], { env: f.env });
  assert.equal(again.code, 1);
  assert.match(again.stdout, /No token is stored/);
});

Deno.test("auth revoke with the provider down removes the local token and exits 1 saying so", async () => {
  await using f = await fixture();
  assert.equal((await setup(f.env)).code, 0);
  f.google.down = true;
  const result = await runIngest(["auth", "revoke", "--account", ACCOUNT, "--json"], {
    env: f.env,
  });
  assert.equal(result.code, 1);
  await assertMatchesSchema("auth_revoke", JSON.parse(result.stdout));
  assert.equal(JSON.parse(result.stdout).remote, "failed");
  assert.match(result.stderr, /local token was removed, but the remote revoke did NOT happen/);
  assert.equal(await exists(f.tokenFile), false);
  assert.equal(f.google.liveRefreshTokens().length, 1); // still valid at the provider
});

/** One raw `AUTHENTICATE XOAUTH2` (imapflow prefers OAUTHBEARER); returns the tagged reply. */
async function xoauth2Login(port: number, user: string, token: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const nextLine = async (): Promise<string> => {
    while (!buffer.includes("\r\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`connection closed after ${JSON.stringify(buffer)}`);
      buffer += value;
    }
    const end = buffer.indexOf("\r\n");
    const line = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    return line;
  };
  const write = (text: string) => conn.write(new TextEncoder().encode(text));
  try {
    assert.match(await nextLine(), /^\* OK .*AUTH=XOAUTH2/);
    await write(
      `a1 AUTHENTICATE XOAUTH2 ${btoa(`user=${user}\x01auth=Bearer ${token}\x01\x01`)}\r\n`,
    );
    while (true) {
      const line = await nextLine();
      if (line.startsWith("a1 ")) return line;
      if (line.startsWith("+")) await write("\r\n"); // error challenge: answer empty
    }
  } finally {
    await lines.cancel().catch(() => {});
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

Deno.test("the stored credentials log in to Dovecot with XOAUTH2 and OAUTHBEARER, refreshed after a failed login", async () => {
  await using f = await fixture();
  assert.equal((await setup(f.env)).code, 0);
  await using dovecot = await startDovecot({
    users: [{ user: ACCOUNT, password: "unused-password" }],
    oauth2: { introspectionUrl: f.google.tokeninfoUrl },
  });
  const config = loadConfig({ env: { ...f.env, IMAP_AUTH: "oauth2" } });
  const provider = credentialsFor(config, ACCOUNT, silentLogger);
  const credentials = await provider.get();
  assert.ok("accessToken" in credentials);
  assert.equal(credentials.user, ACCOUNT);

  assert.match(await xoauth2Login(dovecot.port, ACCOUNT, credentials.accessToken), /^a1 OK/);
  assert.match(await xoauth2Login(dovecot.port, ACCOUNT, "ya29.not-a-token"), /^a1 NO/);

  const login = async (accessToken: string) => {
    const imap = new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: false,
      auth: { user: ACCOUNT, accessToken },
      logger: false,
    });
    await imap.connect();
    const mechanisms = (imap as unknown as { authCapabilities: Map<string, boolean> })
      .authCapabilities;
    const mailbox = await imap.mailboxOpen("INBOX");
    await imap.logout();
    return { mechanisms, exists: mailbox.exists };
  };
  const session = await login(credentials.accessToken);
  assert.equal(session.mechanisms.get("AUTH=OAUTHBEARER"), true);
  assert.equal(session.exists, 0);

  // The provider stops accepting the token: the login fails, a forced refresh fixes it.
  f.google.expireAccessTokens();
  await assert.rejects(
    () => login(credentials.accessToken),
    (error: unknown) => (error as { authenticationFailed?: boolean }).authenticationFailed === true,
  );
  const fresh = await provider.get({ forceRefresh: true });
  assert.ok("accessToken" in fresh);
  assert.equal((await login(fresh.accessToken)).exists, 0);
  assert.match(await xoauth2Login(dovecot.port, ACCOUNT, fresh.accessToken), /^a1 OK/);

  // After revoke no stored credential logs in any more.
  assert.equal((await runIngest(["auth", "revoke"], { env: f.env })).code, 0);
  assert.match(await xoauth2Login(dovecot.port, ACCOUNT, fresh.accessToken), /^a1 NO/);
});
