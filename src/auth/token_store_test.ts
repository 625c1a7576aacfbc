import assert from "node:assert/strict";
import { AuthError } from "../errors.ts";
import { encodeBase64 } from "./token_crypto.ts";
import { chmodCommand, openTokenStore, type StoredToken } from "./token_store.ts";

const TOKEN: StoredToken = {
  refreshToken: "1//refresh-abc",
  accessToken: "ya29.access-xyz",
  expiresAt: 1_900_000_000_000,
  scopes: ["https://mail.google.com/", "email"],
  refreshTokenExpiresAt: undefined,
  updatedAt: 1_800_000_000_000,
};

function randomKey(): string {
  return encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
}

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ingest-token-store-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the store creates its directory 0700 and the file 0600, and reads back what it wrote", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/nested/tokens.json`;
    const store = openTokenStore({ path, key: randomKey() });
    await store.save("a@example.test", TOKEN);
    assert.equal((await Deno.stat(`${dir}/nested`)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual(await store.load("a@example.test"), TOKEN);
    assert.equal(await store.load("b@example.test"), undefined);
  });
});

Deno.test("an encrypted file holds neither tokens nor account addresses in clear", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/tokens.json`;
    await openTokenStore({ path, key: randomKey() }).save("a@example.test", TOKEN);
    const text = await Deno.readTextFile(path);
    assert.doesNotMatch(text, /refresh-abc|access-xyz|a@example\.test/);
    assert.equal((await openTokenStore({ path, key: randomKey() }).status()).encryptedOnDisk, true);
  });
});

Deno.test("several accounts share one file and removing the last deletes it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/tokens.json`;
    const store = openTokenStore({ path });
    await Promise.all([store.save("a@example.test", TOKEN), store.save("b@example.test", TOKEN)]);
    assert.deepEqual([...(await store.list()).keys()].sort(), ["a@example.test", "b@example.test"]);
    assert.equal(await store.remove("a@example.test"), true);
    assert.equal(await store.remove("a@example.test"), false);
    assert.deepEqual([...(await store.list()).keys()], ["b@example.test"]);
    await store.remove("b@example.test");
    await assert.rejects(() => Deno.stat(path), Deno.errors.NotFound);
  });
});

Deno.test("no temporary file is left behind after writes", async () => {
  await withDir(async (dir) => {
    const store = openTokenStore({ path: `${dir}/tokens.json` });
    for (let i = 0; i < 5; i++) await store.save(`u${i}@example.test`, TOKEN);
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["tokens.json", "tokens.json.lock"]);
  });
});

Deno.test("a file readable by others is refused with the exact chmod command", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/tokens.json`;
    const store = openTokenStore({ path });
    await store.save("a@example.test", TOKEN);
    await Deno.chmod(path, 0o644);
    await assert.rejects(
      () => store.load("a@example.test"),
      (error: unknown) =>
        error instanceof AuthError && error.code === "TOKEN_FILE_PERMISSIONS" &&
        error.message.includes(`chmod 600 ${path}`) && error.message.includes("0644"),
    );
    await assert.rejects(() => store.save("b@example.test", TOKEN), AuthError);
  });
});

Deno.test("an encrypted file without a key, with a wrong key, or tampered gives a clear AuthError", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/tokens.json`;
    const key = randomKey();
    await openTokenStore({ path, key }).save("a@example.test", TOKEN);
    const codeOf = (key: string | undefined) =>
      openTokenStore({ path, key }).load("a@example.test").then(
        () => "none",
        (error) => (error instanceof AuthError ? error.code : String(error)),
      );
    assert.equal(await codeOf(undefined), "TOKEN_KEY_MISSING");
    assert.equal(await codeOf(randomKey()), "TOKEN_KEY_MISMATCH");
    const document = JSON.parse(await Deno.readTextFile(path));
    const bytes = Uint8Array.from(atob(document.encryption.ciphertext), (c) => c.charCodeAt(0));
    bytes[5] = (bytes[5] ?? 0) ^ 0x20;
    document.encryption.ciphertext = encodeBase64(bytes);
    await Deno.writeTextFile(path, JSON.stringify(document), { mode: 0o600 });
    assert.equal(await codeOf(key), "TOKEN_FILE_TAMPERED");
    await Deno.writeTextFile(path, "{ not json", { mode: 0o600 });
    assert.equal(await codeOf(key), "TOKEN_FILE_CORRUPT");
  });
});

Deno.test("a plain file is read with a key configured and encrypted on the next write", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/tokens.json`;
    await openTokenStore({ path }).save("a@example.test", TOKEN);
    assert.match(await Deno.readTextFile(path), /refresh-abc/);
    const store = openTokenStore({ path, key: randomKey() });
    assert.deepEqual(await store.load("a@example.test"), TOKEN);
    await store.save("a@example.test", TOKEN);
    assert.doesNotMatch(await Deno.readTextFile(path), /refresh-abc/);
  });
});

Deno.test("chmodCommand() quotes paths a shell would split", () => {
  assert.equal(chmodCommand("/tmp/tokens.json"), "chmod 600 /tmp/tokens.json");
  assert.equal(chmodCommand("/tmp/my tokens.json"), "chmod 600 '/tmp/my tokens.json'");
});
