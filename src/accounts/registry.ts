/**
 * The account registry: which accounts a fleet (`ingest produce --fleet`)
 * follows, kept in Redis so every process of the fleet reads the same list.
 *
 * Layout (every key carries the `{fleet}` hash tag, so on Redis Cluster the
 * registry and the fleet's control keys share one slot and one script can
 * touch them together):
 * - `ingest_accounts:{fleet}`: HASH account address → record JSON
 *   ({@link AccountRecord}, snake_case, `version: 1`);
 * - `ingest_accounts:{fleet}:version`: counter bumped by every change, so a
 *   process notices additions and removals with one GET.
 *
 * Secrets never appear in clear: a password is stored sealed (AES-256-GCM
 * under `INGEST_TOKEN_KEY`, see `auth/token_crypto.ts`) by
 * `sealPassword()` of `account_secret.ts`, whose plaintext names the account
 * (`{"account","password"}`); open it with `openPassword()` or get a login
 * from `accountImapCredentials()`.
 *
 * This module is the one owner of the record format.
 *
 * @module
 */

import type { SealedBox } from "../auth/token_crypto.ts";
import { IngestError } from "../errors.ts";
import type { RedisClient } from "../redis/client.ts";
import { LuaScript } from "../redis/lua_script.ts";

/** How an account logs in. */
export type AccountAuth = "oauth2" | "password";

/** One account of the registry, as stored. */
export interface AccountRecord {
  /** Record format version. */
  readonly version: 1;
  /** The account's address (IMAP user). */
  readonly account: string;
  /** Label used in logs and metrics instead of the address; `null`: a hashed id. */
  readonly alias: string | null;
  readonly auth: AccountAuth;
  /** Mailboxes followed, e.g. `["INBOX"]`. */
  readonly mailboxes: readonly string[];
  /** The IMAP password sealed by `sealPassword()` under `INGEST_TOKEN_KEY` (password auth only). */
  readonly password_sealed: SealedBox | null;
  /** When the account was added (ISO 8601). */
  readonly added_at: string;
}

/** The registry's hash. */
export const REGISTRY_KEY = "ingest_accounts:{fleet}";
/** The change counter of the registry. */
export const REGISTRY_VERSION_KEY = "ingest_accounts:{fleet}:version";

// KEYS: registry, version. ARGV: account, record JSON ('' deletes), 'nx' (only when absent).
// Returns the new version, or -1 when nothing changed.
const WRITE = new LuaScript(`
if ARGV[2] == '' then
  if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return -1 end
elseif ARGV[3] == 'nx' then
  if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return -1 end
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return redis.call('INCR', KEYS[2])
`);

/** Adds an account or replaces its record; returns the registry's new version. */
export async function putAccount(redis: RedisClient, record: AccountRecord): Promise<number> {
  return Number(
    await WRITE.run(redis, [REGISTRY_KEY, REGISTRY_VERSION_KEY], [
      record.account,
      JSON.stringify(record),
      "",
    ]),
  );
}

/**
 * Adds an account only when it is not registered yet (atomically: two
 * concurrent adds cannot both win); returns the new version, or `undefined`
 * when the account already exists (nothing changed).
 */
export async function insertAccount(
  redis: RedisClient,
  record: AccountRecord,
): Promise<number | undefined> {
  const version = Number(
    await WRITE.run(redis, [REGISTRY_KEY, REGISTRY_VERSION_KEY], [
      record.account,
      JSON.stringify(record),
      "nx",
    ]),
  );
  return version === -1 ? undefined : version;
}

/** Removes an account; `false` when it was not registered. */
export async function removeAccount(redis: RedisClient, account: string): Promise<boolean> {
  const version = Number(
    await WRITE.run(redis, [REGISTRY_KEY, REGISTRY_VERSION_KEY], [account, "", ""]),
  );
  return version !== -1;
}

/** One account's record, or `undefined`. */
export async function getAccount(
  redis: RedisClient,
  account: string,
): Promise<AccountRecord | undefined> {
  const text = await redis.hget(REGISTRY_KEY, account);
  return text === null ? undefined : parseRecord(account, text);
}

/** Every registered account, sorted by address. */
export async function listAccounts(redis: RedisClient): Promise<AccountRecord[]> {
  const all = await redis.hgetall(REGISTRY_KEY);
  return Object.entries(all)
    .map(([account, text]) => parseRecord(account, text))
    .sort((a, b) => a.account.localeCompare(b.account));
}

/** The registry's change counter (0 before the first change). */
export async function registryVersion(redis: RedisClient): Promise<number> {
  return Number(await redis.get(REGISTRY_VERSION_KEY) ?? 0);
}

function parseRecord(account: string, text: string): AccountRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw corruptRecord(error);
  }
  if (
    typeof value !== "object" || value === null || (value as { version?: unknown }).version !== 1 ||
    (value as { account?: unknown }).account !== account
  ) {
    throw corruptRecord();
  }
  return value as AccountRecord;
}

function corruptRecord(cause?: unknown): IngestError {
  return new IngestError(
    "REGISTRY_CORRUPT",
    `A record in ${REGISTRY_KEY} is not a version-1 account record. ` +
      `Fix: ingest accounts remove --account <address>, then add the account again`,
    false,
    { cause },
  );
}
