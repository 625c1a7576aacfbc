/**
 * The token store: OAuth2 tokens of one or more accounts in one file
 * (`GOOGLE_TOKEN_FILE`), keyed by account address.
 *
 * Safety rules, enforced here so every caller gets them:
 * - the file is created with mode 0600 and, when its directory does not
 *   exist, the directory with mode 0700;
 * - a file that group or others can access is refused with the exact
 *   `chmod 600 <path>` that fixes it;
 * - every write goes to a temporary file in the same directory, is flushed,
 *   then renamed over the old file, so a crash leaves the old or the new
 *   file, never half of one;
 * - read-modify-write cycles hold an exclusive lock on `<path>.lock`, so
 *   `ingest auth setup` and a running producer refreshing a token do not
 *   lose each other's update;
 * - with `INGEST_TOKEN_KEY` the whole account map (addresses included) is
 *   sealed with AES-256-GCM (see `token_crypto.ts`); without a key the file
 *   is plain JSON and callers warn.
 *
 * File format (version 1):
 * ```json
 * { "format": "ingest-token-store", "version": 1,
 *   "encryption": null, "accounts": { "<address>": { ...token } } }
 * { "format": "ingest-token-store", "version": 1,
 *   "encryption": { "alg": "A256GCM", "key_id": "...", "iv": "...", "ciphertext": "..." } }
 * ```
 * where the ciphertext holds `{ "accounts": { ... } }`.
 *
 * @module
 */

import { dirname } from "node:path";
import { AuthError } from "../errors.ts";
import { importTokenKey, isSealedBox, open, seal, type TokenKey } from "./token_crypto.ts";
import {
  type AccountMap,
  checkedMode,
  corrupt,
  ensureDirectory,
  FORMAT,
  fromRecord,
  readDocument,
  toRecord,
  writeAtomically,
} from "./token_file.ts";

export { chmodCommand, formatMode } from "./token_file.ts";

/** What is stored for one account. Times are milliseconds since the epoch. */
export interface StoredToken {
  /** Long-lived token used to get access tokens; absent only for broken grants. */
  readonly refreshToken: string | undefined;
  /** The last access token, if any. */
  readonly accessToken: string | undefined;
  /** When {@link StoredToken.accessToken} expires. */
  readonly expiresAt: number | undefined;
  /** Scopes granted. */
  readonly scopes: readonly string[];
  /** When the refresh token dies (apps in "Testing" status: 7 days), if the provider said. */
  readonly refreshTokenExpiresAt: number | undefined;
  /** When this entry was last written. */
  readonly updatedAt: number;
}

/** What the file looks like on disk, without reading any token. */
export interface TokenFileStatus {
  /** Path of the token file. */
  readonly path: string;
  /** Whether the file exists. */
  readonly exists: boolean;
  /** Permission bits, e.g. `0o600`; `undefined` when the file does not exist. */
  readonly mode: number | undefined;
  /** Whether the file on disk is encrypted. */
  readonly encryptedOnDisk: boolean;
  /** Whether a key is configured (the next write will be encrypted). */
  readonly keyConfigured: boolean;
}

/** Reads and writes tokens by account. */
export interface TokenStore {
  /** The token file. */
  readonly path: string;
  /** Whether `INGEST_TOKEN_KEY` is configured (tokens are encrypted when written). */
  readonly keyConfigured: boolean;
  /** The token of `account`, or `undefined` when none is stored. */
  load(account: string): Promise<StoredToken | undefined>;
  /** Every stored account and its token. */
  list(): Promise<Map<string, StoredToken>>;
  /** Stores (replaces) the token of `account`. */
  save(account: string, token: StoredToken): Promise<void>;
  /**
   * Replaces the token of `account` with `change(current)` in one locked
   * read-modify-write (`undefined` removes it). Use it instead of
   * load-then-save when another process may write the same account.
   */
  update(
    account: string,
    change: (current: StoredToken | undefined) => StoredToken | undefined,
  ): Promise<StoredToken | undefined>;
  /** Removes the token of `account`; the file is deleted when no account is left. */
  remove(account: string): Promise<boolean>;
  /** File facts for `ingest auth info`, after the same permission check as a read. */
  status(): Promise<TokenFileStatus>;
  /**
   * Runs `refresh` holding a lock that every process sharing this store
   * respects, so one process at a time refreshes `account`'s access token
   * (the others then find the new token stored). Stores that only one
   * machine uses may leave it out.
   */
  withRefreshLock?<T>(account: string, refresh: () => Promise<T>): Promise<T>;
}

/** Options of {@link openTokenStore}. */
export interface TokenStoreOptions {
  /** The token file (`GOOGLE_TOKEN_FILE`). */
  path: string;
  /** Base64 of 32 bytes (`INGEST_TOKEN_KEY`); `undefined` stores plain JSON. */
  key?: string | undefined;
}

/** Opens the store at `options.path`; nothing is read until the first call. */
export function openTokenStore(options: TokenStoreOptions): TokenStore {
  return new FileTokenStore(options.path, options.key);
}

class FileTokenStore implements TokenStore {
  readonly path: string;
  readonly keyConfigured: boolean;
  readonly #keyText: string | undefined;
  #key: Promise<TokenKey> | undefined;
  /** Serializes this instance's read-modify-write cycles (the file lock covers other processes). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string, key: string | undefined) {
    this.path = path;
    this.#keyText = key;
    this.keyConfigured = key !== undefined;
  }

  async load(account: string): Promise<StoredToken | undefined> {
    const record = (await this.#read()).accounts[account];
    return record === undefined ? undefined : fromRecord(record);
  }

  async list(): Promise<Map<string, StoredToken>> {
    const { accounts } = await this.#read();
    return new Map(
      Object.entries(accounts).map(([account, record]) => [account, fromRecord(record)]),
    );
  }

  save(account: string, token: StoredToken): Promise<void> {
    return this.#modify((accounts) => {
      accounts[account] = toRecord(token);
      return undefined;
    });
  }

  update(
    account: string,
    change: (current: StoredToken | undefined) => StoredToken | undefined,
  ): Promise<StoredToken | undefined> {
    return this.#modify((accounts) => {
      const record = accounts[account];
      const next = change(record === undefined ? undefined : fromRecord(record));
      if (next === undefined) delete accounts[account];
      else accounts[account] = toRecord(next);
      return next;
    });
  }

  remove(account: string): Promise<boolean> {
    return this.#modify((accounts) => {
      const found = account in accounts;
      delete accounts[account];
      return found;
    });
  }

  async status(): Promise<TokenFileStatus> {
    const mode = await checkedMode(this.path);
    if (mode === undefined) {
      return {
        path: this.path,
        exists: false,
        mode,
        encryptedOnDisk: false,
        keyConfigured: this.keyConfigured,
      };
    }
    const document = await readDocument(this.path);
    return {
      path: this.path,
      exists: true,
      mode,
      encryptedOnDisk: document.encryption !== null,
      keyConfigured: this.keyConfigured,
    };
  }

  #tokenKey(): Promise<TokenKey> | undefined {
    if (this.#keyText === undefined) return undefined;
    this.#key ??= importTokenKey(this.#keyText);
    return this.#key;
  }

  async #read(): Promise<{ accounts: AccountMap }> {
    if (await checkedMode(this.path) === undefined) return { accounts: {} };
    const { encryption, raw } = await readDocument(this.path);
    let accounts: unknown;
    if (encryption === null) {
      accounts = raw.accounts;
    } else {
      if (!isSealedBox(encryption)) throw corrupt(this.path);
      const key = this.#tokenKey();
      if (key === undefined) {
        throw new AuthError(
          "TOKEN_KEY_MISSING",
          `Cannot read ${this.path}: it is encrypted and INGEST_TOKEN_KEY is not set. ` +
            `Set INGEST_TOKEN_KEY to the key it was written with.`,
        );
      }
      const plaintext = await open(await key, encryption, this.path);
      try {
        accounts = (JSON.parse(plaintext) as { accounts?: unknown }).accounts;
      } catch (error) {
        throw corrupt(this.path, error);
      }
    }
    if (typeof accounts !== "object" || accounts === null || Array.isArray(accounts)) {
      throw corrupt(this.path);
    }
    return { accounts: accounts as AccountMap };
  }

  #modify<T>(change: (accounts: AccountMap) => T): Promise<T> {
    const run = this.#queue.then(() => this.#modifyLocked(change));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #modifyLocked<T>(change: (accounts: AccountMap) => T): Promise<T> {
    await ensureDirectory(dirname(this.path));
    const lock = await Deno.open(`${this.path}.lock`, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
    try {
      await lock.lock(true);
      const { accounts } = await this.#read();
      const result = change(accounts);
      if (Object.keys(accounts).length === 0) {
        await Deno.remove(this.path).catch((error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        });
      } else {
        await this.#write(accounts);
      }
      return result;
    } finally {
      lock.close();
    }
  }

  async #write(accounts: AccountMap): Promise<void> {
    const key = this.#tokenKey();
    const document = key === undefined
      ? { format: FORMAT, version: 1, encryption: null, accounts }
      : {
        format: FORMAT,
        version: 1,
        encryption: await seal(await key, JSON.stringify({ accounts })),
      };
    await writeAtomically(this.path, document);
  }
}
