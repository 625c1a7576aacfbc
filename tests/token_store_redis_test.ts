/**
 * `TOKEN_STORE=redis` against a real redis-server and the fake Google
 * provider: sealed round trip, wrong or missing key, one refresh for two
 * processes (the refresh lock), and `auth setup|info|revoke` on that store.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { runCli } from "../cli/main.ts";
import type { Runtime } from "../cli/runtime.ts";
import { openRedisTokenStore, REDIS_TOKEN_KEY } from "../src/auth/redis_token_store.ts";
import { encodeBase64 } from "../src/auth/token_crypto.ts";
import { createOAuthCredentials } from "../src/auth/token_provider.ts";
import type { StoredToken, TokenStore } from "../src/auth/token_store.ts";
import { loadConfig } from "../src/config/config.ts";
import { AuthError } from "../src/errors.ts";
import { silentLogger } from "../src/log/logger.ts";
import { runIngest } from "./harness/cli.ts";
import { startFakeGoogle } from "./harness/fake_google.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";
import { storeConsentedToken } from "./harness/oauth_consent.ts";
import { startRedis } from "./harness/redis_server.ts";

const ACCOUNT = "alice@example.test";

function randomKey(): string {
  return encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
}

const TOKEN: StoredToken = {
  refreshToken: "1//refresh-secret-0b9e",
  accessToken: "ya29.access-secret-77c1",
  expiresAt: 1_900_000_000_000,
  scopes: ["https://mail.google.com/"],
  refreshTokenExpiresAt: undefined,
  updatedAt: 1_800_000_000_000,
};

function isAuthError(code: string) {
  return (error: unknown) => error instanceof AuthError && error.code === code;
}

Deno.test("the Redis token store keeps tokens sealed and reads them back under the same key only", async () => {
  await using redis = await startRedis();
  const client = new Redis(redis.url);
  try {
    const key = randomKey();
    const store = openRedisTokenStore({ redis: client, key });
    assert.equal((await store.status()).exists, false);
    await store.save(ACCOUNT, TOKEN);
    await store.save("bob@example.test", { ...TOKEN, refreshToken: "1//bob" });
    assert.deepEqual(await store.load(ACCOUNT), TOKEN);
    assert.deepEqual([...(await store.list()).keys()].sort(), [ACCOUNT, "bob@example.test"]);
    const raw = await client.hget(REDIS_TOKEN_KEY, ACCOUNT);
    assert.ok(raw !== null && !raw.includes("refresh-secret") && !raw.includes("access-secret"));
    assert.deepEqual(await store.status(), {
      path: `redis key ${REDIS_TOKEN_KEY}`,
      exists: true,
      mode: undefined,
      encryptedOnDisk: true,
      keyConfigured: true,
    });
    const updated = await store.update(ACCOUNT, (t) => t && { ...t, accessToken: "ya29.next" });
    assert.equal(updated?.accessToken, "ya29.next");
    assert.equal((await store.load(ACCOUNT))?.accessToken, "ya29.next");

    await assert.rejects(
      openRedisTokenStore({ redis: client, key: randomKey() }).load(ACCOUNT),
      isAuthError("TOKEN_KEY_MISMATCH"),
    );
    await assert.rejects(
      openRedisTokenStore({ redis: client, key: undefined }).save(ACCOUNT, TOKEN),
      isAuthError("TOKEN_KEY_MISSING"),
    );
    // A sealed box moved onto another account's field does not open there.
    await client.hset(REDIS_TOKEN_KEY, "mallory@example.test", raw);
    await assert.rejects(store.load("mallory@example.test"), isAuthError("TOKEN_FILE_CORRUPT"));

    assert.equal(await store.remove(ACCOUNT), true);
    assert.equal(await store.remove(ACCOUNT), false);
    assert.equal(await store.load(ACCOUNT), undefined);
  } finally {
    client.disconnect();
  }
});

Deno.test("two processes sharing the Redis store refresh an expired token once, not twice", async () => {
  await using redis = await startRedis();
  await using google = await startFakeGoogle();
  const key = randomKey();
  const env = { ...google.env, TOKEN_STORE: "redis", INGEST_TOKEN_KEY: key };
  const config = loadConfig({ env });
  const clients = [new Redis(redis.url), new Redis(redis.url)];
  try {
    const [one, two] = clients.map((redis) => openRedisTokenStore({ redis, key }));
    await storeConsentedToken(env, ACCOUNT, one);
    const expire = () => one!.update(ACCOUNT, (t) => t && { ...t, expiresAt: Date.now() - 1000 });

    /** Both "processes" ask for credentials at once, each with its own provider and connection. */
    const bothGet = async (stores: TokenStore[]) => {
      const providers = stores.map((store) =>
        createOAuthCredentials({ config, account: ACCOUNT, logger: silentLogger, store })
      );
      return await Promise.all(providers.map((p) => p.get()));
    };

    await expire();
    const before = google.counters.refresh;
    const [a, b] = await bothGet([one!, two!]);
    assert.equal(google.counters.refresh - before, 1, "one refresh for the fleet");
    assert.deepEqual(a, b, "the second process uses the token the first one stored");
    assert.ok("accessToken" in a! && google.isValidAccessToken(a.accessToken));

    // The control: the same stores without their lock refresh once per process.
    await expire();
    const withoutLock = (store: TokenStore): TokenStore => ({
      path: store.path,
      keyConfigured: store.keyConfigured,
      load: (account) => store.load(account),
      list: () => store.list(),
      save: (account, token) => store.save(account, token),
      update: (account, change) => store.update(account, change),
      remove: (account) => store.remove(account),
      status: () => store.status(),
    });
    const again = google.counters.refresh;
    await bothGet([withoutLock(one!), withoutLock(two!)]);
    assert.equal(google.counters.refresh - again, 2, "without the lock both refresh");
  } finally {
    for (const client of clients) client.disconnect();
  }
});

/** `ingest auth setup --no-browser` in-process, completing consent by fetching the printed URL. */
async function authSetup(env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  let stderr = "";
  let fetched: Promise<void> | undefined;
  const runtime: Runtime = {
    env: { LOG_FORMAT: "json", HEALTH_PORT: "0", ...env },
    stdout: (text) => (stdout += text),
    stderr: (text) => {
      stderr += text;
      const url = /^(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m.exec(stderr)?.[1];
      fetched ??= url === undefined ? undefined : fetch(url).then((page) => page.body?.cancel());
    },
    readLine: () => new Promise(() => {}), // nothing pasted: the redirect arrives by HTTP
    interactive: false,
    stderrIsTerminal: false,
    signal: new AbortController().signal,
  };
  const code = await runCli(["--no-env-file", "auth", "setup", "--no-browser", "--json"], runtime);
  await fetched;
  assert.equal(code, 0, stderr);
  return { code, stdout };
}

Deno.test("with TOKEN_STORE=redis, auth setup writes to Redis and auth info and revoke read it", async () => {
  await using redis = await startRedis();
  await using google = await startFakeGoogle();
  const dir = await Deno.makeTempDir({ prefix: "ingest-redis-store-" });
  const env = {
    ...google.env,
    REDIS_URL: redis.url,
    TOKEN_STORE: "redis",
    INGEST_TOKEN_KEY: randomKey(),
    GOOGLE_TOKEN_FILE: `${dir}/tokens.json`,
  };
  try {
    const setup = JSON.parse((await authSetup(env)).stdout);
    await assertMatchesSchema("auth_setup", setup);
    assert.equal(setup.token_file, `redis key ${REDIS_TOKEN_KEY}`);
    assert.equal(await Deno.stat(`${dir}/tokens.json`).then(() => true, () => false), false);

    const info = await runIngest(["auth", "info", "--json"], { env });
    assert.equal(info.code, 0, info.stderr);
    const infoDoc = JSON.parse(info.stdout);
    await assertMatchesSchema("auth_info", infoDoc);
    assert.deepEqual(infoDoc.accounts.map((a: { account: string }) => a.account), [ACCOUNT]);
    assert.equal(infoDoc.token_file.encrypted, true);

    const added = await runIngest(["accounts", "add", "--account", ACCOUNT], { env });
    assert.equal(added.code, 0, added.stderr);
    assert.doesNotMatch(added.stderr, /no OAuth2 token is stored/);

    const noKey = await runIngest(["auth", "info"], { env: { ...env, INGEST_TOKEN_KEY: "" } });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /TOKEN_KEY_MISSING.*TOKEN_STORE=redis/);

    const revoke = await runIngest(["auth", "revoke", "--account", ACCOUNT, "--json"], { env });
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.equal(JSON.parse(revoke.stdout).removed_locally, true);
    const client = new Redis(redis.url);
    try {
      assert.equal(await client.hlen(REDIS_TOKEN_KEY), 0);
    } finally {
      client.disconnect();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("produce --account with TOKEN_STORE=redis looks for its token in Redis, not in the file", async () => {
  await using redis = await startRedis();
  const result = await runIngest(["produce", "--once", "--account", "x@example.test"], {
    env: {
      REDIS_URL: redis.url,
      TOKEN_STORE: "redis",
      INGEST_TOKEN_KEY: randomKey(),
      GOOGLE_CLIENT_ID: "id",
      GOOGLE_CLIENT_SECRET: "secret",
      IMAP_HOST: "127.0.0.1",
      IMAP_PORT: "1",
      IMAP_TLS: "false",
    },
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /No OAuth2 token is stored for x@example\.test in redis key ingest_tokens:\{fleet\}/,
  );
});

Deno.test("the Redis ACL of docs/ACCOUNTS.md is enough for the Redis token store", async () => {
  await using redis = await startRedis();
  const doc = await Deno.readTextFile(new URL("../docs/ACCOUNTS.md", import.meta.url));
  const acl = /also needs `'(~[^']+)'` and the\s+commands `([^`]+)`/.exec(doc);
  assert.ok(acl, "docs/ACCOUNTS.md names the key pattern and commands");
  const commands = acl[2]!.split(/\s+/);
  await redis.cli("ACL", "SETUSER", "tokens", "on", ">pw", "resetchannels", acl[1]!, ...commands);
  const client = new Redis(`redis://tokens:pw@127.0.0.1:${redis.port}`);
  try {
    const store = openRedisTokenStore({ redis: client, key: randomKey() });
    await store.save(ACCOUNT, TOKEN);
    await store.update(ACCOUNT, (t) => t && { ...t, accessToken: "ya29.new" });
    assert.equal((await store.load(ACCOUNT))?.accessToken, "ya29.new");
    assert.equal((await store.list()).size, 1);
    assert.equal((await store.status()).exists, true);
    assert.equal(await store.withRefreshLock!(ACCOUNT, () => Promise.resolve(7)), 7);
    assert.equal(await store.remove(ACCOUNT), true);
    await assert.rejects(client.hset("ingest_accounts:{fleet}", "x", "y"), /NOPERM/);
  } finally {
    client.disconnect();
  }
});
