import assert from "node:assert/strict";
import { AuthError } from "../errors.ts";
import { encodeBase64, importTokenKey, open, seal } from "./token_crypto.ts";

function randomKey(): string {
  return encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
}

Deno.test("seal() then open() returns the plaintext, and the ciphertext does not contain it", async () => {
  const key = await importTokenKey(randomKey());
  const box = await seal(key, '{"refresh_token":"1//secret-refresh"}');
  assert.equal(box.alg, "A256GCM");
  assert.ok(!atob(box.ciphertext).includes("secret-refresh"));
  assert.equal(await open(key, box, "tokens.json"), '{"refresh_token":"1//secret-refresh"}');
});

Deno.test("seal() uses a fresh IV each time", async () => {
  const key = await importTokenKey(randomKey());
  const a = await seal(key, "same");
  const b = await seal(key, "same");
  assert.notEqual(a.iv, b.iv);
  assert.notEqual(a.ciphertext, b.ciphertext);
});

Deno.test("open() with another key fails with TOKEN_KEY_MISMATCH", async () => {
  const box = await seal(await importTokenKey(randomKey()), "secret");
  await assert.rejects(
    () => importTokenKey(randomKey()).then((other) => open(other, box, "tokens.json")),
    (error: unknown) => error instanceof AuthError && error.code === "TOKEN_KEY_MISMATCH",
  );
});

Deno.test("open() of a modified ciphertext fails with TOKEN_FILE_TAMPERED, never garbage", async () => {
  const key = await importTokenKey(randomKey());
  const box = await seal(key, "secret data");
  const bytes = Uint8Array.from(atob(box.ciphertext), (c) => c.charCodeAt(0));
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  const tampered = { ...box, ciphertext: encodeBase64(bytes) };
  await assert.rejects(
    () => open(key, tampered, "tokens.json"),
    (error: unknown) => error instanceof AuthError && error.code === "TOKEN_FILE_TAMPERED",
  );
});

Deno.test("a forged key id does not let a different key decrypt", async () => {
  const right = await importTokenKey(randomKey());
  const wrong = await importTokenKey(randomKey());
  const box = { ...(await seal(right, "secret")), key_id: wrong.id };
  await assert.rejects(
    () => open(wrong, box, "tokens.json"),
    (error: unknown) => error instanceof AuthError && error.code === "TOKEN_FILE_TAMPERED",
  );
});

Deno.test("importTokenKey() refuses keys that are not 32 bytes", async () => {
  await assert.rejects(() => importTokenKey(encodeBase64(new Uint8Array(16))), AuthError);
  await assert.rejects(() => importTokenKey("not base64 !!"), AuthError);
});
