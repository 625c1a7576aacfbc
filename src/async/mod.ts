/**
 * Small helpers for waiting: a deadline on any promise, so scrapes, probes,
 * doctor checks and shutdowns answer even when Redis or IMAP hang, and
 * periodic callbacks that share one timer per period.
 *
 * @module
 */

export * from "./deadline.ts";
export * from "./shared_interval.ts";
