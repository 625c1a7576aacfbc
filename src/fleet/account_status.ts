/**
 * Per-account status of a fleet, kept in `ingest_fleet:{fleet}:account_status`
 * (HASH account → JSON `{"state","last_event_at","owner"}`) by the account's
 * owner, so `ingest accounts list` and `stream inspect` can show the fleet
 * from any machine. This module owns that format.
 *
 * @module
 */

import type { MailboxStatus } from "../producer/mailbox_status.ts";
import type { RedisClient } from "../redis/client.ts";
import { FLEET_ACCOUNT_STATUS_KEY } from "./fleet_keys.ts";

/** What an account of the fleet is doing. */
export type FleetAccountState =
  | "syncing"
  | "idle"
  | "backing_off"
  | "needs_reauth"
  | "unassigned";

/** One account's entry of the status hash (snake_case, as stored). */
export interface FleetAccountRecord {
  readonly state: FleetAccountState;
  /** Last server activity or completed sync round (ISO 8601); `null` before any. */
  readonly last_event_at: string | null;
  /** The owning process id; `null` when unassigned. */
  readonly owner: string | null;
}

/**
 * The account's state from its mailboxes: `needs_reauth` when one is parked,
 * `backing_off` when one waits for a retry (IMAP or Redis), `idle` when all
 * wait in IDLE, else `syncing` (connecting, fetching, standing by).
 */
export function accountState(mailboxes: readonly MailboxStatus[]): FleetAccountState {
  if (mailboxes.some((m) => m.parked || m.state === "needs_reauth")) return "needs_reauth";
  if (mailboxes.some((m) => m.state === "disconnected" || m.redisRefusing !== null)) {
    return "backing_off";
  }
  if (mailboxes.length > 0 && mailboxes.every((m) => m.state === "idle")) return "idle";
  return "syncing";
}

/** The latest server activity or sync round of the mailboxes (ISO), or `null`. */
export function lastEventAt(mailboxes: readonly MailboxStatus[]): string | null {
  let latest: string | null = null;
  for (const m of mailboxes) {
    for (const at of [m.lastPollAt, m.connection?.lastHeardAt ?? null]) {
      if (at !== null && (latest === null || at > latest)) latest = at;
    }
  }
  return latest;
}

/** Writes the records of several accounts in one command. */
export async function writeAccountStatuses(
  redis: RedisClient,
  records: ReadonlyMap<string, FleetAccountRecord>,
): Promise<void> {
  if (records.size === 0) return;
  const fields: string[] = [];
  for (const [account, record] of records) fields.push(account, JSON.stringify(record));
  await redis.hset(FLEET_ACCOUNT_STATUS_KEY, ...fields);
}

/** Deletes the records of accounts that left the registry. */
export async function deleteAccountStatuses(
  redis: RedisClient,
  accounts: readonly string[],
): Promise<void> {
  if (accounts.length > 0) await redis.hdel(FLEET_ACCOUNT_STATUS_KEY, ...accounts);
}

/** Every account's record; unreadable entries count as `unassigned`. */
export async function readAccountStatuses(
  redis: RedisClient,
): Promise<Map<string, FleetAccountRecord>> {
  const all = await redis.hgetall(FLEET_ACCOUNT_STATUS_KEY);
  const records = new Map<string, FleetAccountRecord>();
  for (const [account, text] of Object.entries(all)) {
    records.set(account, parseAccountStatus(text));
  }
  return records;
}

const STATES: readonly string[] = ["syncing", "idle", "backing_off", "needs_reauth", "unassigned"];

/** Parses a stored record; anything unexpected reads as unassigned. */
export function parseAccountStatus(text: string): FleetAccountRecord {
  try {
    const value = JSON.parse(text) as Partial<FleetAccountRecord>;
    if (typeof value.state === "string" && STATES.includes(value.state)) {
      return {
        state: value.state,
        last_event_at: typeof value.last_event_at === "string" ? value.last_event_at : null,
        owner: typeof value.owner === "string" ? value.owner : null,
      };
    }
  } catch { /* falls through */ }
  return { state: "unassigned", last_event_at: null, owner: null };
}
