/**
 * The worker: reads the stream as a consumer group, hands entries to a sink, settles them
 * (acknowledge, retry with backoff, dead-letter) and keeps the group tidy.
 *
 * @module
 */

export * from "./worker.ts";
export * from "./partition_readers.ts";
