/**
 * Accounts of a fleet: the registry in Redis that `ingest accounts` edits and
 * `ingest produce --fleet` follows, the sealed passwords and credentials of
 * its accounts, and the fleet's view of who follows each account.
 *
 * @module
 */

export * from "./registry.ts";
export * from "./account_admin.ts";
export * from "./account_input.ts";
export * from "./account_secret.ts";
export * from "./account_view.ts";
export * from "./credentials.ts";
export * from "./fleet_view.ts";
