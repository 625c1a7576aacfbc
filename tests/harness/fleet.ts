/**
 * A fleet of `ingest produce --fleet` processes against the harness's
 * Dovecot and Redis: a registry filled with password accounts (sealed under
 * a random INGEST_TOKEN_KEY), real child processes whose output is drained
 * (so a chatty process never blocks on a full pipe), and the owner of each
 * account read back from Redis.
 *
 * @module
 */

import { type AccountRecord, putAccount } from "../../src/accounts/registry.ts";
import { sealPassword } from "../../src/accounts/account_secret.ts";
import { encodeBase64, importTokenKey } from "../../src/auth/token_crypto.ts";
import { accountOwners } from "../../src/fleet/account_leases.ts";
import type { RedisClient } from "../../src/redis/client.ts";
import { spawnIngest } from "./cli.ts";
import type { DovecotUser } from "./dovecot.ts";

/** A random INGEST_TOKEN_KEY (base64 of 32 bytes). */
export function randomTokenKey(): string {
  return encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/** A small message for `user`, the `n`th of the test (a unique Message-ID). */
export function fleetMessage(user: string, n: number): string {
  return `From: sender@example.test\r\nTo: ${user}\r\nSubject: fleet ${n}\r\n` +
    `Message-ID: <fleet-${n}-${crypto.randomUUID()}@example.test>\r\n` +
    `Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nbody ${n}\r\n`;
}

/** Registers `users` as password accounts following INBOX, sealed under `tokenKey`. */
export async function registerAccounts(
  redis: RedisClient,
  users: readonly DovecotUser[],
  tokenKey: string,
): Promise<void> {
  const key = await importTokenKey(tokenKey);
  for (const u of users) {
    const record: AccountRecord = {
      version: 1,
      account: u.user,
      alias: null,
      auth: "password",
      mailboxes: ["INBOX"],
      password_sealed: await sealPassword(key, u.user, u.password),
      added_at: new Date().toISOString(),
    };
    await putAccount(redis, record);
  }
}

/** One running `ingest produce --fleet`. */
export class FleetProcess {
  readonly child: Deno.ChildProcess;
  #stderr = "";
  readonly #drained: Promise<void>;

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawnIngest(["produce", "--fleet", ...args], { env });
    const decoder = new TextDecoder();
    const drain = async (stream: ReadableStream<Uint8Array>, keep: boolean) => {
      for await (const chunk of stream) {
        if (keep) this.#stderr += decoder.decode(chunk, { stream: true });
      }
    };
    this.#drained = Promise.all([drain(this.child.stdout, false), drain(this.child.stderr, true)])
      .then(() => {});
  }

  /** The process id it announced in its log (`process_id`), once it did. */
  processId(): string | undefined {
    return /"process_id":"([^"]+)"/.exec(this.#stderr)?.[1];
  }

  /** Its log so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Sends `signal` and waits for the exit code. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
    const status = await this.child.status;
    await this.#drained;
    return status.code;
  }
}

/** The owner of each of `accounts` now (`null`: none). */
export async function ownersOf(
  redis: RedisClient,
  accounts: readonly string[],
): Promise<Map<string, string | null>> {
  const owners = await accountOwners(redis, accounts);
  return new Map(accounts.map((a, i) => [a, owners[i] ?? null]));
}

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
