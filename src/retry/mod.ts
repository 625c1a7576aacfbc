/**
 * Capped exponential backoff with jitter and an abortable sleep, used by every retry loop.
 *
 * @module
 */

export * from "./backoff.ts";
