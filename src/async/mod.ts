/**
 * Small helpers for waiting: a deadline on any promise, so scrapes, probes,
 * doctor checks and shutdowns answer even when Redis or IMAP hang.
 *
 * @module
 */

export * from "./deadline.ts";
