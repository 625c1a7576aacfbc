/**
 * The Redis keys of a fleet's control plane. Every key carries the `{fleet}`
 * hash tag (as the account registry's keys do), so on Redis Cluster they live
 * in one slot and each fleet script may touch any of them together.
 *
 * - `ingest_fleet:{fleet}:owner:<account>`: STRING, the owning process id,
 *   PX = the lease TTL (the per-account lease);
 * - `ingest_fleet:{fleet}:account_status`: HASH account → JSON
 *   `{"state","last_event_at","owner"}`, written by the owner;
 * - `ingest_fleet:{fleet}:members`: ZSET process id → heartbeat expiry (ms
 *   since the epoch).
 *
 * @module
 */

/** The hash tag of every fleet key (shared with the account registry). */
export const FLEET_TAG = "{fleet}";

/** The per-account lease: who owns `account` now. */
export function fleetOwnerKey(account: string): string {
  return `ingest_fleet:${FLEET_TAG}:owner:${account}`;
}

/** Reverses {@link fleetOwnerKey}; `undefined` for another key. */
export function parseFleetOwnerKey(key: string): string | undefined {
  const prefix = `ingest_fleet:${FLEET_TAG}:owner:`;
  return key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
}

/** HASH account → status JSON, written by the account's owner. */
export const FLEET_ACCOUNT_STATUS_KEY = `ingest_fleet:${FLEET_TAG}:account_status`;

/** ZSET of live processes: process id → heartbeat expiry in ms. */
export const FLEET_MEMBERS_KEY = `ingest_fleet:${FLEET_TAG}:members`;
