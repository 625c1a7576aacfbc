/**
 * `ingest produce --fleet`: one process follows its fair share of the
 * account registry. Every tick (1 s, or a quarter of the lease TTL if that is
 * shorter) it renews its heartbeat
 * (`members`) and its account leases, re-reads the registry when its
 * version changed, hands back accounts over its share or removed from the
 * registry, claims free accounts up to its share, and writes each owned
 * account's status. A process killed with SIGKILL stops renewing: its leases
 * run out after the TTL and the others claim its accounts at their next
 * tick. On abort (SIGTERM) it stops its producers, releases every lease and
 * leaves the fleet at once, so the others take over within a tick.
 *
 * @example
 * ```ts
 * const fleet = startFleet({ config, redis, logger, signal, leaseTtlMs: 30_000 });
 * console.log(JSON.stringify(fleet.status()));
 * await fleet.done;
 * ```
 *
 * @module
 */

import { BackfillScheduler } from "../producer/backfill_scheduler.ts";
import { type AccountRecord, listAccounts, registryVersion } from "../accounts/registry.ts";
import { describeError } from "../errors.ts";
import { hashedAccountLabel } from "../metrics/account_label.ts";
import { sleep } from "../retry/backoff.ts";
import { claimAccounts, releaseAccounts, renewAccounts } from "./account_leases.ts";
import { AccountRunner } from "./account_runner.ts";
import { deleteAccountStatuses, writeAccountStatuses } from "./account_status.ts";
import { planShare } from "./fair_share.ts";
import {
  checkFleetOptions,
  defaultCredentials,
  type FleetOptions,
  newProcessId,
} from "./fleet_options.ts";
import {
  type FleetStatus,
  fleetStatus,
  type FleetStatusView,
  fleetStatusWithCounts,
} from "./fleet_status.ts";
import { heartbeat, leaveFleet, listMembers } from "./membership.ts";
import type { FleetState } from "./fleet_state.ts";

export type { FleetOptions } from "./fleet_options.ts";

/** A running fleet process. */
export interface FleetHandle {
  /** This process's id in the fleet. */
  readonly processId: string;
  /** The fleet as this process sees it; serialises to its snake_case view. */
  status(): FleetStatus;
  /** The status view with each live process's account count, read from Redis (for `/status`). */
  describe(): Promise<FleetStatusView>;
  /** An account's label for logs and metrics: its registry alias, or its hashed id. */
  label(account: string): string;
  /** `/ready`: the last tick reached Redis within the lease TTL. */
  ready(): { ready: boolean; checks: Record<string, unknown> };
  /** Resolves once every account was handed back after abort. */
  readonly done: Promise<void>;
}

/** Starts a fleet process; see the module documentation. */
export function startFleet(options: FleetOptions): FleetHandle {
  checkFleetOptions(options);
  const processId = options.processId ?? newProcessId();
  // Leases are renewed every tick and live one tick less than the TTL, so a dead
  // process's accounts are claimed within the TTL of its last renewal.
  const tickMs = options.tickMs ?? Math.min(1_000, Math.floor(options.leaseTtlMs / 4));
  const state: FleetState = {
    tickMs,
    holdMs: options.leaseTtlMs - tickMs,
    options,
    processId,
    logger: options.logger.child({ component: "fleet", process_id: processId }),
    credentials: options.credentials ?? defaultCredentials(options),
    backfillScheduler: new BackfillScheduler(),
    records: new Map(),
    version: -1,
    runners: new Map(),
    handovers: new Set(),
    starts: [],
    starting: false,
    live: 1,
    share: 0,
    members: [],
    lastTickAt: undefined,
    ticks: 0,
    written: new Map(),
    unreadableVersion: undefined,
  };
  return {
    processId,
    status: () => fleetStatus(state),
    describe: () => fleetStatusWithCounts(state),
    label: (account) => state.records.get(account)?.alias || hashedAccountLabel(account),
    ready: () => {
      const fresh = state.lastTickAt !== undefined &&
        Date.now() - state.lastTickAt < state.holdMs;
      return { ready: fresh, checks: { fleet: fresh ? "ok" : "no tick reached Redis lately" } };
    },
    done: runFleet(state),
  };
}

async function runFleet(state: FleetState): Promise<void> {
  const { signal } = state.options;
  const { tickMs } = state;
  state.logger.info("fleet process started", {
    lease_ttl_ms: state.options.leaseTtlMs,
    max_accounts: state.options.maxAccounts,
  });
  while (!signal.aborted) {
    try {
      await tick(state);
      state.lastTickAt = Date.now();
    } catch (error) {
      state.logger.warn("fleet tick failed: retrying", { error: describeError(error) });
    }
    await sleep(tickMs, signal).catch(() => {});
  }
  await shutdown(state);
}

/** One round of heartbeat, renewal, registry, share and status. */
async function tick(state: FleetState): Promise<void> {
  const { redis } = state.options;
  const { holdMs } = state;
  const now = Date.now();
  state.live = await heartbeat(redis, state.processId, holdMs, now);
  // Renewals come first: nothing later in the tick may cost this process its accounts.
  const lost = await renewAccounts(redis, state.processId, [...state.runners.keys()], holdMs);
  for (const account of lost) dropLost(state, account);
  state.members = await listMembers(redis, now);
  await refreshRegistry(state);
  for (const account of state.runners.keys()) {
    if (!state.records.has(account)) handBack(state, account, "removed from the registry");
  }
  const held = [...state.runners.values()].filter((r) => !r.releasing).map((r) => r.account);
  const plan = planShare({
    processId: state.processId,
    registered: [...state.records.keys()],
    held,
    liveMembers: state.live,
    maxAccounts: state.options.maxAccounts,
  });
  state.share = plan.share;
  for (const account of plan.release) handBack(state, account, "over the fair share");
  // The first tick only announces this process: peers started at the same time
  // are counted before anyone claims, so a fleet starting together does not churn.
  if (plan.want > 0 && state.lastTickAt !== undefined) {
    const free = plan.candidates.filter((account) => !state.runners.has(account));
    const claimed = await claimAccounts(redis, state.processId, free, plan.want, holdMs);
    for (const account of claimed) adopt(state, account);
  }
  restartEnded(state, now);
  const statuses = ownedStatuses(state);
  await writeAccountStatuses(redis, statuses.changed);
  state.written = statuses.written; // only once written: a failed write is retried next tick
}

/** Re-reads the registry when its version moved. */
async function refreshRegistry(state: FleetState): Promise<void> {
  const { redis } = state.options;
  const version = await registryVersion(redis);
  if (version === state.version) return;
  let records: AccountRecord[];
  try {
    records = await listAccounts(redis);
  } catch (error) {
    // A record that cannot be read (REGISTRY_CORRUPT) must not stop the fleet:
    // the last good registry stays in force and the read is tried again next tick.
    if (state.unreadableVersion !== version) {
      state.logger.error("registry unreadable: keeping the last good one", {
        error: describeError(error),
        version,
      });
    }
    state.unreadableVersion = version;
    return;
  }
  state.records = new Map(records.map((r) => [r.account, r]));
  state.version = version;
  state.logger.info("registry read", { version, accounts: records.length });
  for (const runner of [...state.runners.values()]) {
    const record = state.records.get(runner.account);
    if (record && !runner.releasing && JSON.stringify(record) !== JSON.stringify(runner.record)) {
      restartChanged(state, runner, record);
    }
  }
}

/**
 * A held account's record changed (`accounts add --update`: a new password,
 * other mailboxes, an alias): its producer is restarted with the new record,
 * keeping the account lease, so a parked account resumes at once.
 */
function restartChanged(state: FleetState, old: AccountRunner, record: AccountRecord): void {
  const next = new AccountRunner(record, {
    ...state.options,
    credentials: state.credentials,
    backfillScheduler: state.backfillScheduler,
  });
  state.runners.set(record.account, next);
  state.logger.info("account record changed: restarting its producer", { account: next.label });
  track(
    state,
    old.stop().then(() => {
      if (state.runners.get(record.account) !== next) return;
      state.starts.push(next);
      void drainStarts(state);
    }),
  );
}

/** A claimed account: its producer starts in the staggered queue. */
function adopt(state: FleetState, account: string): void {
  const record = state.records.get(account) as AccountRecord;
  const runner = new AccountRunner(record, {
    ...state.options,
    credentials: state.credentials,
    backfillScheduler: state.backfillScheduler,
  });
  state.runners.set(account, runner);
  state.logger.info("account claimed", { account: runner.label });
  state.starts.push(runner);
  void drainStarts(state);
}

/** Starts queued producers one `staggerMs` apart: no thundering herd of logins. */
async function drainStarts(state: FleetState): Promise<void> {
  if (state.starting) return;
  state.starting = true;
  const { staggerMs = 20, signal } = state.options;
  try {
    while (state.starts.length > 0 && !signal.aborted) {
      const runner = state.starts.shift()!;
      if (runner.releasing || state.runners.get(runner.account) !== runner) continue;
      runner.start();
      await sleep(staggerMs, signal).catch(() => {});
    }
  } finally {
    state.starting = false;
  }
}

/** Another process owns the account now (our lease ran out): stop without releasing. */
function dropLost(state: FleetState, account: string): void {
  const runner = state.runners.get(account);
  if (!runner) return;
  state.runners.delete(account);
  state.logger.warn("account lease lost: stopping its producer", { account: runner.label });
  track(state, runner.stop());
}

/** Stops the account's producer, then releases its lease so another process claims it. */
function handBack(state: FleetState, account: string, reason: string): void {
  const runner = state.runners.get(account);
  if (!runner || runner.releasing) return;
  runner.releasing = true;
  state.logger.info("handing account back", { account: runner.label, reason });
  const { redis } = state.options;
  track(
    state,
    (async () => {
      await runner.stop();
      await releaseAccounts(redis, state.processId, [account]);
      if (state.runners.get(account) === runner) state.runners.delete(account);
      if (state.records.has(account)) {
        await writeAccountStatuses(
          redis,
          new Map([[account, { state: "unassigned", last_event_at: null, owner: null }]]),
        );
      } else {
        await deleteAccountStatuses(redis, [account]);
      }
    })().catch((error) => {
      state.logger.warn("handing account back failed", { error: describeError(error) });
    }),
  );
}

/** Producers that ended on their own (all mailboxes failed) start again after a pause. */
function restartEnded(state: FleetState, now: number): void {
  const pause = state.options.restartAfterMs ?? 60_000;
  for (const runner of state.runners.values()) {
    if (!runner.releasing && runner.endedAt !== undefined && now - runner.endedAt >= pause) {
      runner.start();
    }
  }
}

/** Ticks between two full rewrites of the status hash (in between: changed records only). */
const FULL_STATUS_EVERY = 30;

/** The status records to write this tick: the changed ones, or all every 30 ticks. */
function ownedStatuses(state: FleetState) {
  const full = state.ticks++ % FULL_STATUS_EVERY === 0;
  const records = new Map<string, ReturnType<AccountRunner["statusRecord"]>>();
  const written = new Map<string, string>();
  for (const runner of state.runners.values()) {
    if (runner.releasing) continue;
    const record = runner.statusRecord(state.processId);
    const text = JSON.stringify(record);
    written.set(runner.account, text);
    if (full || state.written.get(runner.account) !== text) records.set(runner.account, record);
  }
  return { changed: records, written };
}

function track(state: FleetState, work: Promise<void>): void {
  state.handovers.add(work);
  work.finally(() => state.handovers.delete(work));
}

/** SIGTERM: stop every producer, release every lease, leave the fleet. */
async function shutdown(state: FleetState): Promise<void> {
  const { redis } = state.options;
  const runners = [...state.runners.values()];
  state.logger.info("fleet process stopping: handing accounts back", { accounts: runners.length });
  // Leave first: the others then count one process less and have room for these accounts.
  await leaveFleet(redis, state.processId).catch(() => {});
  await Promise.all(runners.map((r) => r.stop()));
  await Promise.all([...state.handovers]);
  const accounts = runners.map((r) => r.account);
  try {
    await releaseAccounts(redis, state.processId, accounts);
    const unassigned = { state: "unassigned" as const, last_event_at: null, owner: null };
    await writeAccountStatuses(
      redis,
      new Map(accounts.filter((a) => state.records.has(a)).map((a) => [a, unassigned])),
    );
  } catch (error) {
    // The leases run out after their TTL instead.
    state.logger.warn("could not hand accounts back", { error: describeError(error) });
  }
  state.runners.clear();
  state.logger.info("fleet process stopped", { accounts: accounts.length });
}
