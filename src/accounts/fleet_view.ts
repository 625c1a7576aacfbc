/**
 * Who follows each account and how it is doing, read from the keys the
 * fleet processes (`ingest produce --fleet`) publish. Read-only here; the
 * layout (all keys tagged `{fleet}`, so one slot on Redis Cluster and one
 * MGET can read every owner) is:
 * - `ingest_fleet:{fleet}:owner:<account>`: STRING, the owning process id,
 *   with a PX TTL (the account lease);
 * - `ingest_fleet:{fleet}:account_status`: HASH account → JSON
 *   `{"state","last_event_at","owner"}` written by the owning process;
 * - `ingest_fleet:{fleet}:members`: ZSET process id → heartbeat expiry (ms
 *   since the epoch).
 *
 * @module
 */

import type { RedisClient } from "../redis/client.ts";

/** What the owning process says an account is doing; `unassigned` when no live process owns it. */
export type AccountState = "syncing" | "idle" | "backing_off" | "needs_reauth" | "unassigned";

/** The states a live owner may report. */
const OWNED_STATES: ReadonlySet<string> = new Set([
  "syncing",
  "idle",
  "backing_off",
  "needs_reauth",
]);

/** One account as the fleet sees it. */
export interface AccountFleetView {
  /** The live process holding the account's lease, or `null`. */
  readonly owner: string | null;
  /** `unassigned` when {@link owner} is `null`. */
  readonly state: AccountState;
  /** Last event the account's producer saw (ISO 8601), or `null` (never, or unknown). */
  readonly last_event_at: string | null;
}

const OWNER_PREFIX = "ingest_fleet:{fleet}:owner:";
const STATUS_KEY = "ingest_fleet:{fleet}:account_status";
const MEMBERS_KEY = "ingest_fleet:{fleet}:members";

interface ReportedStatus {
  state?: unknown;
  last_event_at?: unknown;
  owner?: unknown;
}

/**
 * The fleet view of each of `accounts` at `now` (ms). An owner counts only
 * while its lease key exists and its heartbeat in the members set has not
 * expired: a process that died is not shown as owning anything. A status
 * written by an earlier owner is not trusted for the state (`syncing` until
 * the new owner reports), but its `last_event_at` is kept.
 */
export async function readFleetView(
  redis: RedisClient,
  accounts: readonly string[],
  now: number = Date.now(),
): Promise<Map<string, AccountFleetView>> {
  const views = new Map<string, AccountFleetView>();
  if (accounts.length === 0) return views;
  const [owners, statuses, members] = await Promise.all([
    redis.mget(...accounts.map((account) => OWNER_PREFIX + account)),
    redis.hmget(STATUS_KEY, ...accounts),
    redis.zrangebyscore(MEMBERS_KEY, now, "+inf"),
  ]);
  const live = new Set(members);
  accounts.forEach((account, i) => {
    const owner = owners[i] ?? null;
    const status = parseStatus(statuses[i] ?? null);
    const lastEventAt = typeof status.last_event_at === "string" ? status.last_event_at : null;
    if (owner === null || !live.has(owner)) {
      views.set(account, { owner: null, state: "unassigned", last_event_at: lastEventAt });
      return;
    }
    const reported = status.owner === owner && typeof status.state === "string" &&
      OWNED_STATES.has(status.state);
    views.set(account, {
      owner,
      state: reported ? status.state as AccountState : "syncing",
      last_event_at: lastEventAt,
    });
  });
  return views;
}

function parseStatus(text: string | null): ReportedStatus {
  if (text === null) return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? value as ReportedStatus : {};
  } catch {
    return {}; // a half-written or foreign value says nothing about the account
  }
}
