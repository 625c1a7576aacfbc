import assert from "node:assert/strict";
import { encodeBase64, importTokenKey } from "../auth/token_crypto.ts";
import { loadConfig } from "../config/config.ts";
import { AuthError } from "../errors.ts";
import { silentLogger } from "../log/logger.ts";
import { sealPassword } from "./account_secret.ts";
import { accountImapCredentials } from "./credentials.ts";
import type { AccountRecord } from "./registry.ts";

function randomKey(): string {
  return encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
}

async function passwordRecord(key: string, account: string, password: string) {
  const record: AccountRecord = {
    version: 1,
    account,
    alias: null,
    auth: "password",
    mailboxes: ["INBOX"],
    password_sealed: await sealPassword(await importTokenKey(key), account, password),
    added_at: new Date(0).toISOString(),
  };
  return record;
}

Deno.test("accountImapCredentials() opens a sealed password under INGEST_TOKEN_KEY", async () => {
  const key = randomKey();
  const record = await passwordRecord(key, "a@example.test", "s3cret pass");
  const config = loadConfig({ env: { INGEST_TOKEN_KEY: key } });
  const provider = accountImapCredentials(record, { config, logger: silentLogger });
  assert.equal(provider.account, "a@example.test");
  assert.deepEqual(await provider.get(), { user: "a@example.test", pass: "s3cret pass" });
  assert.ok(!JSON.stringify(record).includes("s3cret"), "the record holds no clear password");
});

Deno.test("accountImapCredentials() refuses a wrong key, a missing key and another account's box", async () => {
  const key = randomKey();
  const record = await passwordRecord(key, "a@example.test", "pw");
  const wrong = loadConfig({ env: { INGEST_TOKEN_KEY: randomKey() } });
  await assert.rejects(
    accountImapCredentials(record, { config: wrong, logger: silentLogger }).get(),
    (error: unknown) => error instanceof AuthError && error.code === "TOKEN_KEY_MISMATCH",
  );
  await assert.rejects(
    accountImapCredentials(record, { config: loadConfig({ env: {} }), logger: silentLogger })
      .get(),
    (error: unknown) => error instanceof AuthError && error.code === "TOKEN_KEY_MISSING",
  );
  const swapped: AccountRecord = { ...record, account: "b@example.test" };
  const right = loadConfig({ env: { INGEST_TOKEN_KEY: key } });
  await assert.rejects(
    accountImapCredentials(swapped, { config: right, logger: silentLogger }).get(),
    (error: unknown) => error instanceof AuthError && error.code === "TOKEN_FILE_TAMPERED",
  );
});

Deno.test("accountImapCredentials() gives oauth2 accounts the token provider over the given store", async () => {
  const config = loadConfig({
    env: { GOOGLE_CLIENT_ID: "id", GOOGLE_CLIENT_SECRET: "secret" },
  });
  const record: AccountRecord = {
    version: 1,
    account: "o@example.test",
    alias: "o",
    auth: "oauth2",
    mailboxes: ["INBOX"],
    password_sealed: null,
    added_at: new Date(0).toISOString(),
  };
  const loads: string[] = [];
  const store = {
    path: "memory",
    keyConfigured: true,
    load: (account: string) => {
      loads.push(account);
      return Promise.resolve({
        refreshToken: "r",
        accessToken: "ya29.fresh",
        expiresAt: Date.now() + 3_600_000,
        scopes: [],
        refreshTokenExpiresAt: undefined,
        updatedAt: 0,
      });
    },
    list: () => Promise.resolve(new Map()),
    save: () => Promise.resolve(),
    update: () => Promise.resolve(undefined),
    remove: () => Promise.resolve(false),
    status: () => Promise.reject(new Error("unused")),
  };
  const provider = accountImapCredentials(record, {
    config,
    logger: silentLogger,
    tokenStore: store,
  });
  assert.deepEqual(await provider.get(), { user: "o@example.test", accessToken: "ya29.fresh" });
  assert.deepEqual(loads, ["o@example.test"]);
});
