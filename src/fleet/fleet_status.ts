/**
 * A fleet process's status for `/status`: the fleet as it saw it at its last
 * tick (live processes, fair share, registry version) and each account it
 * follows by label (never the address): state, last event and its age, last
 * server activity, reconnects, and the mailboxes' own status.
 *
 * @module
 */

import type { MailboxStatus } from "../producer/mailbox_status.ts";
import { type MailboxStatusView, mailboxStatusView } from "../producer/mailbox_status_view.ts";
import { type FleetAccountState, lastEventAt } from "./account_status.ts";
import type { FleetState } from "./fleet_state.ts";
import { readFleetSummary } from "./fleet_view.ts";

/** One followed account, as `/status` shows it (snake_case). */
export interface FleetAccountView {
  /** The account's label (alias or hashed id). */
  readonly account: string;
  readonly state: FleetAccountState;
  /** Last server activity or sync round (ISO); `null` before any. */
  readonly last_event_at: string | null;
  /** Milliseconds since {@link FleetAccountView.last_event_at}; `null` before any. */
  readonly last_event_age_ms: number | null;
  /** When an IMAP server last sent anything on one of its connections (ISO). */
  readonly last_server_activity_at: string | null;
  /** IMAP reconnects since this process claimed the account. */
  readonly reconnects: number;
  /** Being handed back to the fleet. */
  readonly releasing: boolean;
  /** Why its producer last ended on its own (it starts again after a pause), or `null`. */
  readonly last_error: { readonly message: string; readonly at: string } | null;
  readonly mailboxes: readonly MailboxStatusView[];
}

/** The fleet part of `/status` (snake_case). */
export interface FleetStatusView {
  readonly process_id: string;
  readonly lease_ttl_ms: number;
  readonly max_accounts: number;
  /** Live processes at the last tick, this one included. */
  readonly live_processes: number;
  /** This process's fair share: ceil(accounts / live processes), within max_accounts. */
  readonly fair_share: number;
  readonly registry_version: number;
  readonly registered_accounts: number;
  /**
   * The live processes by id, with their heartbeat expiry (ISO) and the
   * accounts each owns (`null` in the view built without reading Redis).
   */
  readonly processes: readonly {
    process_id: string;
    heartbeat_expires_at: string;
    accounts: number | null;
  }[];
  /** The accounts this process follows. */
  readonly accounts: readonly FleetAccountView[];
}

/** A fleet process's status; `JSON.stringify` prints its view. */
export interface FleetStatus {
  readonly processId: string;
  /** Accounts followed now. */
  readonly accounts: number;
  toJSON(): FleetStatusView;
}

/** The status of the process behind `state`. */
export function fleetStatus(state: FleetState, now: number = Date.now()): FleetStatus {
  return {
    processId: state.processId,
    accounts: state.runners.size,
    toJSON: () => fleetStatusView(state, now),
  };
}

function fleetStatusView(state: FleetState, now: number): FleetStatusView {
  const accounts = [...state.runners.values()].map((runner): FleetAccountView => {
    const mailboxes: readonly MailboxStatus[] = runner.producerStatus()?.mailboxes ?? [];
    const last = lastEventAt(mailboxes);
    return {
      account: runner.label,
      state: runner.state(),
      last_event_at: last,
      last_event_age_ms: last === null ? null : Math.max(0, now - Date.parse(last)),
      last_server_activity_at: lastServerActivity(mailboxes),
      reconnects: runner.reconnects,
      releasing: runner.releasing,
      last_error: runner.lastError,
      mailboxes: mailboxes.map(mailboxStatusView),
    };
  });
  return {
    process_id: state.processId,
    lease_ttl_ms: state.options.leaseTtlMs,
    max_accounts: state.options.maxAccounts,
    live_processes: state.live,
    fair_share: state.share,
    registry_version: state.version,
    registered_accounts: state.records.size,
    processes: state.members.map((m) => ({
      process_id: m.processId,
      heartbeat_expires_at: new Date(m.expiresAt).toISOString(),
      accounts: null,
    })),
    accounts: accounts.sort((a, b) => a.account.localeCompare(b.account)),
  };
}

function lastServerActivity(mailboxes: readonly MailboxStatus[]): string | null {
  let latest: string | null = null;
  for (const m of mailboxes) {
    const at = m.connection?.lastHeardAt ?? null;
    if (at !== null && (latest === null || at > latest)) latest = at;
  }
  return latest;
}

/**
 * The status view with every live process's account count read from Redis
 * (what `/status` serves); the counts stay `null` when Redis cannot be read.
 */
export async function fleetStatusWithCounts(
  state: FleetState,
  now: number = Date.now(),
): Promise<FleetStatusView> {
  const view = fleetStatusView(state, now);
  const summary = await readFleetSummary(state.options.redis, now).catch(() => null);
  if (summary === null) return view;
  return {
    ...view,
    processes: summary.processes.map((p) => ({ ...p })),
  };
}
