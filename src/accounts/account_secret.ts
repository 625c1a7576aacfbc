/**
 * An account's IMAP password at rest: sealed with AES-256-GCM under
 * `INGEST_TOKEN_KEY` (the same key and cipher as the token store, see
 * `auth/token_crypto.ts`). The sealed plaintext names the account, so a
 * sealed box copied onto another account's record does not open there.
 *
 * @module
 */

import { open, seal, type SealedBox, type TokenKey } from "../auth/token_crypto.ts";
import { AuthError } from "../errors.ts";

/** Seals `password` for `account` under `key`. */
export function sealPassword(key: TokenKey, account: string, password: string): Promise<SealedBox> {
  return seal(key, JSON.stringify({ account, password }));
}

/**
 * Opens a box made by {@link sealPassword}. Throws an {@link AuthError}:
 * `TOKEN_KEY_MISMATCH` under another key, `TOKEN_FILE_TAMPERED` when the
 * box fails authentication or belongs to another account.
 */
export async function openPassword(
  key: TokenKey,
  account: string,
  box: SealedBox,
): Promise<string> {
  const where = `the registry record of ${account}`;
  let plaintext: string;
  try {
    plaintext = await open(key, box, where);
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    throw new AuthError(
      error.code,
      `Cannot open the sealed password of ${where}: ${
        error.code === "TOKEN_KEY_MISMATCH"
          ? "it was sealed under a different INGEST_TOKEN_KEY"
          : "it fails integrity checks"
      }. Set the key it was sealed with, or store it again: ` +
        `ingest accounts add --account ${account} --update --password-stdin`,
      { cause: error },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(plaintext);
  } catch (error) {
    throw tampered(where, error);
  }
  const sealed = value as { account?: unknown; password?: unknown };
  if (sealed.account !== account || typeof sealed.password !== "string") throw tampered(where);
  return sealed.password;
}

function tampered(where: string, cause?: unknown): AuthError {
  return new AuthError(
    "TOKEN_FILE_TAMPERED",
    `Cannot open the sealed password of ${where}: it was not sealed for this account`,
    { cause },
  );
}
