/**
 * Options of a fleet process (`startFleet`) and its process id.
 *
 * @module
 */

import { accountImapCredentials } from "../accounts/credentials.ts";
import type { AccountRecord } from "../accounts/registry.ts";
import { configuredTokenStore } from "../auth/token_store_choice.ts";
import type { Config } from "../config/config.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import type { Logger } from "../log/logger.ts";
import type { ProducerObserver } from "../observe/events.ts";
import type { StartPosition } from "../producer/start_position.ts";
import type { RedisClient } from "../redis/client.ts";

/** Options of `startFleet`. */
export interface FleetOptions {
  /** IMAP server, producer and stream settings shared by every account. */
  readonly config: Config;
  /** One client shared by every account of the process; the caller closes it after `done`. */
  readonly redis: RedisClient;
  /** Structured logger (accounts appear by label only). */
  readonly logger: Logger;
  /** Metrics and status hooks, for every account. */
  readonly observer?: ProducerObserver;
  /** Aborting hands every account back and ends the process's part in the fleet. */
  readonly signal: AbortSignal;
  /** Account and mailbox lease TTL in ms (`--lease-ttl`); a dead process's accounts move after it. */
  readonly leaseTtlMs: number;
  /** Most accounts this process follows (`--max-accounts`). */
  readonly maxAccounts: number;
  /** This process's id in the fleet. Default `<hostname>-<pid>-<random>`. */
  readonly processId?: string;
  /** Credentials of a registry account. Default `accountImapCredentials` (src/accounts/) over the configured token store. */
  readonly credentials?: (record: AccountRecord) => CredentialsProvider;
  /** Time between ticks (heartbeat, renewals, registry, share). Default 1 s, at most a quarter of the TTL. */
  readonly tickMs?: number;
  /** Pause between two account starts (IMAP logins). Default 20 ms. */
  readonly staggerMs?: number;
  /** Pause before an account whose producer ended on its own starts again. Default 60 s. */
  readonly restartAfterMs?: number;
  /** Use IMAP IDLE when offered. Default true. */
  readonly idle?: boolean;
  /** What a mailbox without state ingests first. Default all. */
  readonly start?: StartPosition;
  /** Longest IDLE before a NOOP check. Default `IMAP_IDLE_CHECK_SECONDS`. */
  readonly idleHeartbeatMs?: number;
}

/** A process id unique in the fleet, readable in `stream inspect`: `<hostname>-<pid>-<random>`. */
export function newProcessId(): string {
  let host = "host";
  try {
    host = Deno.hostname();
  } catch { /* no --allow-sys: the pid and random part still make it unique */ }
  return `${host}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Argument checks before any work. */
export function checkFleetOptions(options: FleetOptions): void {
  if (!Number.isInteger(options.leaseTtlMs) || options.leaseTtlMs < 2_000) {
    throw new InvalidArgumentError(
      `Cannot start the fleet: leaseTtlMs must be >= 2000, current value is ${options.leaseTtlMs}`,
    );
  }
  if (!Number.isInteger(options.maxAccounts) || options.maxAccounts < 1) {
    throw new InvalidArgumentError(
      `Cannot start the fleet: maxAccounts must be >= 1, current value is ${options.maxAccounts}`,
    );
  }
}

/** Each record's sealed password, or OAuth2 over the configured token store (one for all). */
export function defaultCredentials(
  options: FleetOptions,
): (record: AccountRecord) => CredentialsProvider {
  const { config, logger, observer, redis } = options;
  let tokenStore: ReturnType<typeof configuredTokenStore> | undefined;
  return (record) => {
    if (record.auth === "oauth2") tokenStore ??= configuredTokenStore(config, redis);
    return accountImapCredentials(record, { config, logger, observer, tokenStore });
  };
}
