/**
 * `ingest doctor`: checks of a deployment (Redis, IMAP, tokens) with a verdict and a fix each.
 *
 * @module
 */

export * from "./doctor.ts";
export * from "./check.ts";
