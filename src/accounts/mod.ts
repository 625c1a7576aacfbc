/**
 * Accounts of a fleet: the registry in Redis that `ingest accounts` edits and
 * `ingest produce --fleet` follows.
 *
 * @module
 */

export * from "./registry.ts";
export * from "./account_secret.ts";
export * from "./credentials.ts";
