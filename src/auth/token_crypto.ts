/**
 * Encryption at rest of the token store: AES-256-GCM (WebCrypto) under the
 * 32-byte `INGEST_TOKEN_KEY`.
 *
 * A sealed document carries a short key id (a hash of the key, never the key)
 * so that a wrong key and a tampered file can be told apart: GCM alone fails
 * the same way for both.
 *
 * @module
 */

import { AuthError } from "../errors.ts";

/** The encryption header and ciphertext written to the token file. */
export interface SealedBox {
  /** Always `A256GCM`. */
  readonly alg: "A256GCM";
  /** First 8 bytes of SHA-256("ingest-token-key-id\0" + key), base64url. */
  readonly key_id: string;
  /** 12 random bytes, base64. */
  readonly iv: string;
  /** Ciphertext with the 16-byte GCM tag appended, base64. */
  readonly ciphertext: string;
}

/** An imported token key and its id. */
export interface TokenKey {
  readonly key: CryptoKey;
  readonly id: string;
}

/** Additional authenticated data: binds the ciphertext to this file format and key id. */
function aadFor(keyId: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`ingest-token-store/v1/${keyId}`);
}

/** A one-liner that prints a fresh key, for messages. */
export const KEY_GENERATION_HINT =
  `openssl rand -base64 32  (or: deno eval "console.log(btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))))")`;

/** Imports a base64 key of exactly 32 bytes. */
export async function importTokenKey(base64: string): Promise<TokenKey> {
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = decodeBase64(base64);
  } catch (error) {
    throw new AuthError("TOKEN_KEY_INVALID", badKeyMessage(), { cause: error });
  }
  if (raw.length !== 32) throw new AuthError("TOKEN_KEY_INVALID", badKeyMessage());
  const label = new TextEncoder().encode("ingest-token-key-id\0");
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", concat(label, raw)),
  );
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  return { key, id: encodeBase64Url(digest.subarray(0, 8)) };
}

function badKeyMessage(): string {
  return `INGEST_TOKEN_KEY must be 32 random bytes in base64; generate one: ${KEY_GENERATION_HINT}`;
}

/** Encrypts `plaintext` under `key` with a fresh random IV. */
export async function seal(key: TokenKey, plaintext: string): Promise<SealedBox> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: aadFor(key.id) },
    key.key,
    new TextEncoder().encode(plaintext),
  );
  return {
    alg: "A256GCM",
    key_id: key.id,
    iv: encodeBase64(iv),
    ciphertext: encodeBase64(new Uint8Array(ciphertext)),
  };
}

/**
 * Decrypts a {@link SealedBox}. Throws an {@link AuthError} with code
 * `TOKEN_KEY_MISMATCH` when the box was sealed under another key and
 * `TOKEN_FILE_TAMPERED` when it fails authentication under the right key.
 * `where` names the file in messages.
 */
export async function open(key: TokenKey, box: SealedBox, where: string): Promise<string> {
  if (box.key_id !== key.id) {
    throw new AuthError(
      "TOKEN_KEY_MISMATCH",
      `Cannot read ${where}: it was encrypted with a different INGEST_TOKEN_KEY. ` +
        `Set the key it was written with, or delete the file and run \`ingest auth setup\` again.`,
    );
  }
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: decodeBase64(box.iv), additionalData: aadFor(box.key_id) },
      key.key,
      decodeBase64(box.ciphertext),
    );
    return new TextDecoder("utf-8", { fatal: true }).decode(plaintext);
  } catch (error) {
    throw new AuthError(
      "TOKEN_FILE_TAMPERED",
      `Cannot read ${where}: its contents fail integrity checks (modified or corrupted). ` +
        `Delete the file and run \`ingest auth setup\` again.`,
      { cause: error },
    );
  }
}

/** Whether `value` has the shape of a {@link SealedBox}. */
export function isSealedBox(value: unknown): value is SealedBox {
  if (typeof value !== "object" || value === null) return false;
  const box = value as Record<string, unknown>;
  return box.alg === "A256GCM" && typeof box.key_id === "string" &&
    typeof box.iv === "string" && typeof box.ciphertext === "string";
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Standard base64 of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** base64url without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes standard base64; throws on malformed input. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.trim());
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
