/**
 * The fleet as Redis holds it, for `ingest stream inspect` from any machine:
 * live processes with the number of accounts each owns, and how many
 * accounts are in each state (an account whose lease nobody holds counts as
 * `unassigned`, whatever its last status said).
 *
 * @module
 */

import { listAccounts } from "../accounts/registry.ts";
import type { RedisClient } from "../redis/client.ts";
import { accountOwners } from "./account_leases.ts";
import { type FleetAccountState, readAccountStatuses } from "./account_status.ts";
import { listMembers } from "./membership.ts";

/** One live process of the fleet. */
export interface FleetProcessView {
  readonly process_id: string;
  /** When its heartbeat runs out unless renewed (ISO). */
  readonly heartbeat_expires_at: string;
  /** Accounts whose lease it holds. */
  readonly accounts: number;
}

/** The fleet part of `stream inspect --json` (snake_case). */
export interface FleetSummary {
  readonly processes: readonly FleetProcessView[];
  /** Registered accounts. */
  readonly accounts: number;
  /** Accounts per state. */
  readonly states: Readonly<Record<FleetAccountState, number>>;
}

/** Reads the fleet; `null` when there is none (no registered account, no live process). */
export async function readFleetSummary(
  redis: RedisClient,
  now: number = Date.now(),
): Promise<FleetSummary | null> {
  const [members, records, statuses] = await Promise.all([
    listMembers(redis, now),
    listAccounts(redis),
    readAccountStatuses(redis),
  ]);
  if (members.length === 0 && records.length === 0) return null;
  const accounts = records.map((r) => r.account);
  const owners = await accountOwners(redis, accounts);
  const owned = new Map<string, number>();
  const states: Record<FleetAccountState, number> = {
    syncing: 0,
    idle: 0,
    backing_off: 0,
    needs_reauth: 0,
    unassigned: 0,
  };
  accounts.forEach((account, i) => {
    const owner = owners[i] ?? null;
    if (owner === null) {
      states.unassigned++;
      return;
    }
    owned.set(owner, (owned.get(owner) ?? 0) + 1);
    const state = statuses.get(account)?.state ?? "syncing";
    states[state === "unassigned" ? "syncing" : state]++;
  });
  return {
    processes: members.map((m) => ({
      process_id: m.processId,
      heartbeat_expires_at: new Date(m.expiresAt).toISOString(),
      accounts: owned.get(m.processId) ?? 0,
    })),
    accounts: accounts.length,
    states,
  };
}
