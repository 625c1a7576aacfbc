/**
 * The dead-letter queue: its entry layout (written and parsed here) and the list, read, replay
 * and purge operations of `ingest dlq`.
 *
 * @module
 */

export * from "./dead_letter.ts";
export * from "./dead_letter_queue.ts";
export * from "./partitioned_dlq.ts";
