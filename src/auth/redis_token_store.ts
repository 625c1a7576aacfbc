/**
 * The token store in Redis (`TOKEN_STORE=redis`): every process of a fleet,
 * on any machine, reads and refreshes the same accounts' OAuth2 tokens.
 *
 * Layout (tagged `{fleet}`, the registry's slot on Redis Cluster):
 * - `ingest_tokens:{fleet}`: HASH account → a sealed box (AES-256-GCM under
 *   `INGEST_TOKEN_KEY`, see `token_crypto.ts`) of `{"account","token"}`,
 *   `token` in the token file's record format. The key is required: tokens
 *   never reach Redis in clear, and the sealed account name stops a box
 *   from being moved onto another account;
 * - `ingest_tokens:{fleet}:refresh_lock:<account>`: STRING with a PX TTL,
 *   held while one process refreshes the account's access token, so a
 *   fleet refreshes each token once, not once per process.
 *
 * Writes are compare-and-set (a Lua script replaces the field only if it
 * still holds what was read), retried on conflict.
 *
 * @module
 */

import { AuthError } from "../errors.ts";
import type { RedisClient } from "../redis/client.ts";
import { LuaScript } from "../redis/lua_script.ts";
import { importTokenKey, isSealedBox, open, seal, type TokenKey } from "./token_crypto.ts";
import { fromRecord, type TokenRecord, toRecord } from "./token_file.ts";
import type { StoredToken, TokenFileStatus, TokenStore } from "./token_store.ts";

/** The hash of sealed tokens. */
export const REDIS_TOKEN_KEY = "ingest_tokens:{fleet}";

/** The refresh lock of one account. */
export function refreshLockKey(account: string): string {
  return `${REDIS_TOKEN_KEY}:refresh_lock:${account}`;
}

/** Options of {@link openRedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /** The Redis the fleet shares. */
  redis: RedisClient;
  /** `INGEST_TOKEN_KEY` (required before the first read or write). */
  key: string | undefined;
  /** Lifetime of a refresh lock, in case its holder dies. Default 40 000 ms (two 15 s requests). */
  lockTtlMs?: number;
  /** Longest wait for another process's refresh lock. Default 45 000 ms. */
  lockWaitMs?: number;
  /** Poll interval while waiting for the lock. Default 50 ms. */
  lockPollMs?: number;
}

// KEYS: hash. ARGV: field, expected ('' = absent), next ('' = delete). 1 when written.
const COMPARE_AND_SET = new LuaScript(`
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1])
else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return 1
`);

// KEYS: lock. ARGV: holder. Deletes the lock only if this holder still has it.
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

const MAX_CAS_ATTEMPTS = 20;

/** Opens the Redis token store; nothing is read until the first call. */
export function openRedisTokenStore(options: RedisTokenStoreOptions): TokenStore {
  return new RedisTokenStore(options);
}

class RedisTokenStore implements TokenStore {
  readonly path = `redis key ${REDIS_TOKEN_KEY}`;
  readonly keyConfigured: boolean;
  readonly #redis: RedisClient;
  readonly #keyText: string | undefined;
  readonly #lockTtlMs: number;
  readonly #lockWaitMs: number;
  readonly #lockPollMs: number;
  #key: Promise<TokenKey> | undefined;

  constructor(options: RedisTokenStoreOptions) {
    this.#redis = options.redis;
    this.#keyText = options.key;
    this.keyConfigured = options.key !== undefined;
    this.#lockTtlMs = options.lockTtlMs ?? 40_000;
    this.#lockWaitMs = options.lockWaitMs ?? 45_000;
    this.#lockPollMs = options.lockPollMs ?? 50;
  }

  async load(account: string): Promise<StoredToken | undefined> {
    const raw = await this.#redis.hget(REDIS_TOKEN_KEY, account);
    return raw === null ? undefined : await this.#decode(account, raw);
  }

  async list(): Promise<Map<string, StoredToken>> {
    const all = await this.#redis.hgetall(REDIS_TOKEN_KEY);
    const entries = await Promise.all(
      Object.entries(all).map(async ([account, raw]) =>
        [account, await this.#decode(account, raw)] as const
      ),
    );
    return new Map(entries);
  }

  async save(account: string, token: StoredToken): Promise<void> {
    await this.update(account, () => token);
  }

  /** `change` may run more than once: again after a concurrent write, on the newer token. */
  async update(
    account: string,
    change: (current: StoredToken | undefined) => StoredToken | undefined,
  ): Promise<StoredToken | undefined> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = await this.#redis.hget(REDIS_TOKEN_KEY, account);
      const current = raw === null ? undefined : await this.#decode(account, raw);
      const next = change(current);
      const encoded = next === undefined ? "" : await this.#encode(account, toRecord(next));
      const written = await COMPARE_AND_SET.run(this.#redis, [REDIS_TOKEN_KEY], [
        account,
        raw ?? "",
        encoded,
      ]);
      if (Number(written) === 1) return next;
    }
    throw new AuthError(
      "TOKEN_FILE_WRITE",
      `Cannot write the token of ${account} to ${this.path}: it kept changing under ` +
        `${MAX_CAS_ATTEMPTS} attempts`,
      { retryable: true },
    );
  }

  async remove(account: string): Promise<boolean> {
    return (await this.#redis.hdel(REDIS_TOKEN_KEY, account)) > 0;
  }

  async status(): Promise<TokenFileStatus> {
    const count = await this.#redis.hlen(REDIS_TOKEN_KEY);
    return {
      path: this.path,
      exists: count > 0,
      mode: undefined,
      encryptedOnDisk: true,
      keyConfigured: this.keyConfigured,
    };
  }

  /** Runs `refresh` while holding the account's refresh lock (waits for another holder). */
  async withRefreshLock<T>(account: string, refresh: () => Promise<T>): Promise<T> {
    const lock = refreshLockKey(account);
    const holder = crypto.randomUUID();
    const deadline = Date.now() + this.#lockWaitMs;
    while ((await this.#redis.set(lock, holder, "PX", this.#lockTtlMs, "NX")) !== "OK") {
      if (Date.now() >= deadline) {
        throw new AuthError(
          "TIMED_OUT",
          `Another process has been refreshing the token of ${account} for over ` +
            `${this.#lockWaitMs} ms; trying again later`,
          { retryable: true },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, this.#lockPollMs));
    }
    try {
      return await refresh();
    } finally {
      await RELEASE.run(this.#redis, [lock], [holder]).catch(() => {}); // the TTL frees it anyway
    }
  }

  #tokenKey(): Promise<TokenKey> {
    if (this.#keyText === undefined) {
      throw new AuthError(
        "TOKEN_KEY_MISSING",
        `TOKEN_STORE=redis keeps OAuth2 tokens sealed under INGEST_TOKEN_KEY, which is not ` +
          `set. Set it (the same key on every process of the fleet): openssl rand -base64 32`,
      );
    }
    this.#key ??= importTokenKey(this.#keyText);
    return this.#key;
  }

  async #encode(account: string, token: TokenRecord): Promise<string> {
    return JSON.stringify(await seal(await this.#tokenKey(), JSON.stringify({ account, token })));
  }

  async #decode(account: string, raw: string): Promise<StoredToken> {
    const key = await this.#tokenKey();
    const where = `${this.path} (field ${account})`;
    let box: unknown;
    try {
      box = JSON.parse(raw);
    } catch (error) {
      throw corruptField(where, error);
    }
    if (!isSealedBox(box)) throw corruptField(where);
    let value: { account?: unknown; token?: unknown };
    try {
      value = JSON.parse(await open(key, box, where));
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw corruptField(where, error);
    }
    if (value.account !== account || typeof value.token !== "object" || value.token === null) {
      throw corruptField(where);
    }
    return fromRecord(value.token as TokenRecord);
  }
}

function corruptField(where: string, cause?: unknown): AuthError {
  return new AuthError(
    "TOKEN_FILE_CORRUPT",
    `Cannot read ${where}: it is not a sealed ingest token. Run \`ingest auth setup\` ` +
      `for that account again.`,
    { cause },
  );
}
