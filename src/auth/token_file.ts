/**
 * The token file on disk: its format (version 1, see token_store.ts), the
 * permission check, the atomic write, and the mapping between stored records
 * and {@link StoredToken}.
 *
 * @module
 */

import { AuthError } from "../errors.ts";
import type { StoredToken } from "./token_store.ts";

/** The `format` field of every token file. */
export const FORMAT = "ingest-token-store";

/** One account's token as written in the file (snake_case, as Google names them). */
export interface TokenRecord {
  refresh_token?: string;
  access_token?: string;
  expiry_date?: number;
  scope?: string;
  refresh_token_expires_at?: number;
  updated_at?: string;
}

/** Tokens by account address. */
export type AccountMap = Record<string, TokenRecord>;

/** `chmod 600 <path>`, quoting the path for a POSIX shell when needed. */
export function chmodCommand(path: string): string {
  const quoted = /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'"'"'`)}'`;
  return `chmod 600 ${quoted}`;
}

/** The file's permission bits, or `undefined` when it does not exist; refuses loose modes. */
export async function checkedMode(path: string): Promise<number | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new AuthError("TOKEN_FILE_UNREADABLE", `Cannot read the token file ${path}`, {
      cause: error,
    });
  }
  if (!info.isFile) {
    throw new AuthError(
      "TOKEN_FILE_UNREADABLE",
      `Cannot use ${path} as the token file: it is not a regular file`,
    );
  }
  const mode = (info.mode ?? 0o600) & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AuthError(
      "TOKEN_FILE_PERMISSIONS",
      `Refusing to use the token file ${path}: its mode is ${formatMode(mode)}, so group ` +
        `or others can access it. Fix it with: ${chmodCommand(path)}`,
    );
  }
  return mode;
}

/** The parsed file, its format and version checked; `encryption` is null for plain JSON. */
export async function readDocument(
  path: string,
): Promise<{ encryption: unknown; raw: Record<string, unknown> }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new AuthError("TOKEN_FILE_UNREADABLE", `Cannot read the token file ${path}`, {
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw corrupt(path, error);
  }
  if (
    typeof raw !== "object" || raw === null || (raw as Record<string, unknown>).format !== FORMAT
  ) {
    throw corrupt(path);
  }
  const document = raw as Record<string, unknown>;
  if (document.version !== 1) {
    throw new AuthError(
      "TOKEN_FILE_VERSION",
      `Cannot read ${path}: format version ${
        String(document.version)
      } is not supported by this ingest version`,
    );
  }
  return { encryption: document.encryption ?? null, raw: document };
}

/**
 * Writes `document` to a temporary file in the same directory, flushes it,
 * then renames it over `path`: a crash leaves the old or the new file.
 */
export async function writeAtomically(path: string, document: unknown): Promise<void> {
  const temp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      // The mode given to open() is reduced by the umask; make it exact.
      await Deno.chmod(temp, 0o600);
      const bytes = new TextEncoder().encode(JSON.stringify(document, null, 2) + "\n");
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new AuthError("TOKEN_FILE_WRITE", `Cannot write the token file ${path}`, {
      cause: error,
    });
  }
}

/** Creates `dir` (and parents) with mode 0700 when it does not exist; leaves existing ones alone. */
export async function ensureDirectory(dir: string): Promise<void> {
  try {
    await Deno.stat(dir);
    return;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
}

/** The error for a file that is not (or no longer) an ingest token file. */
export function corrupt(path: string, cause?: unknown): AuthError {
  return new AuthError(
    "TOKEN_FILE_CORRUPT",
    `Cannot read ${path}: it is not an ingest token file (or it is damaged). ` +
      `Move it away and run \`ingest auth setup\` again.`,
    { cause },
  );
}

/** `0o644` → `"0644"`. */
export function formatMode(mode: number): string {
  return "0" + (mode & 0o777).toString(8).padStart(3, "0");
}

/** The stored record as a {@link StoredToken}. */
export function fromRecord(record: TokenRecord): StoredToken {
  return {
    refreshToken: stringOrUndefined(record.refresh_token),
    accessToken: stringOrUndefined(record.access_token),
    expiresAt: numberOrUndefined(record.expiry_date),
    scopes: typeof record.scope === "string" ? record.scope.split(" ").filter((s) => s) : [],
    refreshTokenExpiresAt: numberOrUndefined(record.refresh_token_expires_at),
    updatedAt: typeof record.updated_at === "string" ? Date.parse(record.updated_at) || 0 : 0,
  };
}

/** A {@link StoredToken} as the record written to the file. */
export function toRecord(token: StoredToken): TokenRecord {
  return {
    refresh_token: token.refreshToken,
    access_token: token.accessToken,
    expiry_date: token.expiresAt,
    scope: token.scopes.join(" "),
    refresh_token_expires_at: token.refreshTokenExpiresAt,
    updated_at: new Date(token.updatedAt).toISOString(),
  };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
