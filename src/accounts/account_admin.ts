/**
 * The changes `ingest accounts add|remove` make, without the CLI: check the
 * request, seal the password, write the registry, and on removal optionally
 * delete the account's per-mailbox state.
 *
 * @module
 */

import { importTokenKey } from "../auth/token_crypto.ts";
import { IngestError, UsageError } from "../errors.ts";
import type { RedisClient } from "../redis/client.ts";
import {
  backfillKey,
  CURSOR_FIELDS,
  cursorKey,
  entryCountsKey,
  flagStateKey,
  leaseKey,
  type MailboxRef,
  modseqKey,
  publishedIndexKey,
} from "../redis/keys.ts";
import { sealPassword } from "./account_secret.ts";
import { type AccountInput, addressProblems, planAccount } from "./account_input.ts";
import {
  type AccountRecord,
  getAccount,
  insertAccount,
  listAccounts,
  putAccount,
  removeAccount,
} from "./registry.ts";

/** Options of {@link addAccount}. */
export interface AddAccountOptions {
  /** Replace an existing record (flags not given keep their stored values); also adds. */
  readonly update: boolean;
  /** `INGEST_TOKEN_KEY`, to seal a password. */
  readonly tokenKey: string | undefined;
  /** Problems found before (e.g. in the configuration), reported with this request's. */
  readonly problems?: readonly string[];
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** What {@link addAccount} did. */
export interface AddAccountResult {
  /** The record as stored. */
  readonly record: AccountRecord;
  /** `true` for a new account, `false` for an updated one. */
  readonly created: boolean;
  /** The registry's version after the change. */
  readonly version: number;
}

/**
 * Adds (or with `update`, replaces) an account. Throws a {@link UsageError}
 * naming every problem at once: bad address, alias or mailboxes, a password
 * missing or without `INGEST_TOKEN_KEY`, an existing account without `update`.
 */
export async function addAccount(
  redis: RedisClient,
  input: AccountInput,
  options: AddAccountOptions,
): Promise<AddAccountResult> {
  const problems = [...(options.problems ?? [])];
  const valid = addressProblems(input.account).length === 0;
  const [existing, all] = valid
    ? await Promise.all([getAccount(redis, input.account), listAccounts(redis)])
    : [undefined, []];
  problems.push(...registrationProblems(input.account, existing, all, options.update));
  const aliases = new Set(
    all.filter((r) => r.account !== input.account && r.alias !== null).map((r) => r.alias!),
  );
  const result = planAccount(input, existing, aliases);
  problems.push(...result.problems);
  if (result.plan === undefined || problems.length > 0) {
    throw new UsageError(`Cannot add the account:\n  - ${problems.join("\n  - ")}`);
  }
  const plan = result.plan;
  const password_sealed = plan.auth === "oauth2"
    ? null
    : plan.password === undefined
    ? existing!.password_sealed // planAccount checked that one is stored
    : await sealPassword(await importTokenKey(options.tokenKey!), plan.account, plan.password);
  const record: AccountRecord = {
    version: 1,
    account: plan.account,
    alias: plan.alias,
    auth: plan.auth,
    mailboxes: plan.mailboxes,
    password_sealed,
    added_at: existing?.added_at ?? new Date((options.now ?? Date.now)()).toISOString(),
  };
  if (existing !== undefined) {
    return { record, created: false, version: await putAccount(redis, record) };
  }
  const version = options.update
    ? await putAccount(redis, record)
    : await insertAccount(redis, record);
  if (version === undefined) {
    throw new UsageError(
      `Cannot add the account:\n  - ${input.account} was registered by someone else just now: ` +
        `pass --update to change it`,
    );
  }
  return { record, created: true, version };
}

/** An existing account without `update`, or the same mailbox under another spelling. */
function registrationProblems(
  account: string,
  existing: AccountRecord | undefined,
  all: readonly AccountRecord[],
  update: boolean,
): string[] {
  const problems: string[] = [];
  if (existing !== undefined && !update) {
    problems.push(
      `${account} is already registered: pass --update to change it ` +
        `(flags not given keep their stored values)`,
    );
  }
  // Two spellings of one mailbox would be followed twice, under two sets of keys.
  const variant = all.find((r) =>
    r.account !== account && r.account.toLowerCase() === account.toLowerCase()
  );
  if (variant !== undefined) {
    problems.push(
      `${account} is already registered as ${variant.account} (the addresses differ only ` +
        `in case): use that spelling`,
    );
  }
  return problems;
}

/** What {@link removeAccountFully} did. */
export interface RemoveAccountResult {
  /** The record that was removed. */
  readonly record: AccountRecord;
  /** Keys deleted by `purgeState` (0 without it). */
  readonly purgedKeys: number;
}

/**
 * Removes `account` from the registry (its fleet owner stops following it
 * within the lease time) and, with `purgeState`, deletes its cursor, lease
 * and published-index keys of every mailbox it followed. Throws `NOT_FOUND`
 * when it is not registered. The OAuth2 token stays in the token store
 * (`ingest auth revoke` removes it).
 */
export async function removeAccountFully(
  redis: RedisClient,
  account: string,
  options: { readonly purgeState: boolean },
): Promise<RemoveAccountResult> {
  const record = await getAccount(redis, account);
  if (record === undefined || !(await removeAccount(redis, account))) {
    throw notRegistered(account);
  }
  const purgedKeys = options.purgeState ? await purgeAccountState(redis, record) : 0;
  return { record, purgedKeys };
}

/**
 * Every per-mailbox key of `record` that `--purge-state` deletes (one
 * partition: seed names): cursor, published index, lease, history backfill
 * and the `--events` state. The hourly download counters stay: Gmail still
 * counts those bytes, and they expire within 25 hours.
 */
export function accountStateKeys(record: AccountRecord, partition?: number): string[] {
  return record.mailboxes.flatMap((mailbox) => {
    const ref: MailboxRef = { account: record.account, mailbox, partition };
    return [
      ...CURSOR_FIELDS.map((field) => cursorKey(ref, field)),
      publishedIndexKey(ref),
      leaseKey(ref),
      backfillKey(ref),
      modseqKey(ref),
      flagStateKey(ref),
      entryCountsKey(ref),
    ];
  });
}

/** Deletes {@link accountStateKeys}; returns how many existed. One DEL per key (Cluster slots). */
export async function purgeAccountState(
  redis: RedisClient,
  record: AccountRecord,
  partition?: number,
): Promise<number> {
  const counts = await Promise.all(
    accountStateKeys(record, partition).map((key) => redis.del(key)),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

/** The error for an account that is not in the registry. */
export function notRegistered(account: string): IngestError {
  return new IngestError(
    "NOT_FOUND",
    `${account} is not registered. List the registered accounts: ingest accounts list`,
    false,
  );
}
