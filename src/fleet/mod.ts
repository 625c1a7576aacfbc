/**
 * A fleet of producer processes over the account registry
 * (`ingest produce --fleet`): per-account leases with a fair share each,
 * takeover when a process dies, hand-back on shutdown, and the fleet's view
 * (members, owners, per-account status) for `/status` and `stream inspect`.
 *
 * @module
 */

export * from "./account_leases.ts";
export * from "./account_status.ts";
export * from "./fair_share.ts";
export * from "./fleet.ts";
export * from "./fleet_keys.ts";
export * from "./fleet_status.ts";
export * from "./fleet_view.ts";
export * from "./membership.ts";
export { newProcessId } from "./fleet_options.ts";
