/**
 * The observer interfaces through which the producer and worker report events (metrics,
 * status, progress) without knowing who listens.
 *
 * @module
 */

export * from "./events.ts";
