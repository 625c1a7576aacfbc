import assert from "node:assert/strict";
import { loadConfig } from "../config/config.ts";
import { AuthError } from "../errors.ts";
import { silentLogger } from "../log/logger.ts";
import type { OAuthClient, TokenGrant } from "./oauth_client.ts";
import { createOAuthCredentials, credentialsFor, needsRefresh } from "./token_provider.ts";
import type { StoredToken, TokenStore } from "./token_store.ts";

const ACCOUNT = "a@example.test";
const config = loadConfig({
  env: { GOOGLE_CLIENT_ID: "id", GOOGLE_CLIENT_SECRET: "secret" },
});

function memoryStore(initial: StoredToken | undefined): TokenStore & { saved: number } {
  let token = initial;
  const store = {
    path: "/memory/tokens.json",
    keyConfigured: true,
    saved: 0,
    load: () => Promise.resolve(token),
    list: () => Promise.resolve(new Map(token ? [[ACCOUNT, token]] : [])),
    save: (_account: string, next: StoredToken) => {
      token = next;
      store.saved++;
      return Promise.resolve();
    },
    update: (_account: string, change: (t: StoredToken | undefined) => StoredToken | undefined) => {
      token = change(token);
      store.saved++;
      return Promise.resolve(token);
    },
    remove: () => Promise.resolve(true),
    status: () => Promise.reject(new Error("not used")),
  };
  return store;
}

function fakeClient(answer: (refreshToken: string) => Promise<TokenGrant>) {
  const calls: string[] = [];
  const client: OAuthClient = {
    createPkce: () => Promise.reject(new Error("not used")),
    authorizationUrl: () => "",
    exchangeCode: () => Promise.reject(new Error("not used")),
    refresh: (refreshToken) => {
      calls.push(refreshToken);
      return answer(refreshToken);
    },
    revoke: () => Promise.resolve(),
    userEmail: () => Promise.resolve(ACCOUNT),
  };
  return { client, calls };
}

function token(overrides: Partial<StoredToken> = {}): StoredToken {
  return {
    refreshToken: "r1",
    accessToken: "old",
    expiresAt: 1_000_000 + 3_600_000,
    scopes: ["https://mail.google.com/"],
    refreshTokenExpiresAt: undefined,
    updatedAt: 0,
    ...overrides,
  };
}

const grant = (accessToken: string): TokenGrant => ({
  accessToken,
  refreshToken: undefined,
  expiresAt: 1_000_000 + 3_600_000,
  scopes: [],
  refreshTokenExpiresAt: undefined,
});

Deno.test("needsRefresh() is true within 5 minutes of expiry and for missing tokens", () => {
  assert.equal(needsRefresh({ accessToken: "a", expiresAt: 10 * 60_000 }, 0), false);
  assert.equal(needsRefresh({ accessToken: "a", expiresAt: 5 * 60_000 }, 0), true);
  assert.equal(needsRefresh({ accessToken: undefined, expiresAt: 10 * 60_000 }, 0), true);
  assert.equal(needsRefresh({ accessToken: "a", expiresAt: undefined }, 0), true);
});

Deno.test("a valid access token is returned without a refresh", async () => {
  const { client, calls } = fakeClient(() => Promise.resolve(grant("new")));
  const provider = createOAuthCredentials({
    config,
    account: ACCOUNT,
    logger: silentLogger,
    store: memoryStore(token()),
    client,
    now: () => 1_000_000,
  });
  assert.deepEqual(await provider.get(), { user: ACCOUNT, accessToken: "old" });
  assert.equal(calls.length, 0);
});

Deno.test("a token expiring within 5 minutes is refreshed, persisted and reported", async () => {
  const { client, calls } = fakeClient(() => Promise.resolve(grant("new")));
  const store = memoryStore(token({ expiresAt: 1_000_000 + 4 * 60_000 }));
  const outcomes: string[] = [];
  const provider = createOAuthCredentials({
    config,
    account: ACCOUNT,
    logger: silentLogger,
    observer: { tokenRefresh: (_a, outcome) => outcomes.push(outcome) },
    store,
    client,
    now: () => 1_000_000,
  });
  assert.deepEqual(await provider.get(), { user: ACCOUNT, accessToken: "new" });
  assert.deepEqual(calls, ["r1"]);
  assert.deepEqual(outcomes, ["ok"]);
  assert.equal((await store.load(ACCOUNT))?.accessToken, "new");
  assert.equal((await store.load(ACCOUNT))?.refreshToken, "r1");
});

Deno.test("concurrent calls share one refresh", async () => {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const { client, calls } = fakeClient(async () => {
    await gate;
    return grant("new");
  });
  const provider = createOAuthCredentials({
    config,
    account: ACCOUNT,
    logger: silentLogger,
    store: memoryStore(token({ accessToken: undefined })),
    client,
    now: () => 1_000_000,
  });
  const all = Promise.all([
    provider.get(),
    provider.get(),
    provider.get({ forceRefresh: true }),
    provider.get(),
  ]);
  release();
  const results = await all;
  assert.equal(calls.length, 1);
  assert.ok(results.every((r) => "accessToken" in r && r.accessToken === "new"));
});

Deno.test("a forced refresh refreshes a valid token, but not twice in a row", async () => {
  let n = 0;
  const { client, calls } = fakeClient(() => Promise.resolve(grant(`new${++n}`)));
  const provider = createOAuthCredentials({
    config,
    account: ACCOUNT,
    logger: silentLogger,
    store: memoryStore(token()),
    client,
    now: () => 1_000_000,
  });
  assert.deepEqual(await provider.get({ forceRefresh: true }), {
    user: ACCOUNT,
    accessToken: "new1",
  });
  assert.deepEqual(await provider.get({ forceRefresh: true }), {
    user: ACCOUNT,
    accessToken: "new1",
  });
  assert.equal(calls.length, 1);
});

Deno.test("invalid_grant parks the account: later calls fail without a request until a new setup", async () => {
  const { client, calls } = fakeClient((refreshToken) =>
    refreshToken === "r1"
      ? Promise.reject(new AuthError("INVALID_GRANT", "invalid_grant", { reauthRequired: true }))
      : Promise.resolve(grant("after-setup"))
  );
  const store = memoryStore(token({ accessToken: undefined }));
  const outcomes: string[] = [];
  const provider = createOAuthCredentials({
    config,
    account: ACCOUNT,
    logger: silentLogger,
    observer: { tokenRefresh: (_a, outcome) => outcomes.push(outcome) },
    store,
    client,
    now: () => 1_000_000,
  });
  const isReauth = (error: unknown) =>
    error instanceof AuthError && error.reauthRequired &&
    error.message.includes(`ingest auth setup --account ${ACCOUNT}`);
  await assert.rejects(() => provider.get(), isReauth);
  await assert.rejects(() => provider.get(), isReauth);
  assert.equal(calls.length, 1);
  assert.deepEqual(outcomes, ["error"]);
  await store.save(ACCOUNT, token({ refreshToken: "r2", accessToken: undefined }));
  assert.deepEqual(await provider.get(), { user: ACCOUNT, accessToken: "after-setup" });
});

Deno.test("no stored token is a reauth error naming the command", async () => {
  const { client } = fakeClient(() => Promise.resolve(grant("new")));
  const provider = createOAuthCredentials({
    config,
    account: ACCOUNT,
    logger: silentLogger,
    store: memoryStore(undefined),
    client,
  });
  await assert.rejects(
    () => provider.get(),
    (error: unknown) => error instanceof AuthError && error.reauthRequired,
  );
});

Deno.test("credentialsFor() returns the password when IMAP_AUTH=password", async () => {
  const passwordConfig = loadConfig({ env: { IMAP_AUTH: "password", IMAP_PASSWORD: "pw" } });
  const provider = credentialsFor(passwordConfig, ACCOUNT, silentLogger);
  assert.deepEqual(await provider.get(), { user: ACCOUNT, pass: "pw" });
});
