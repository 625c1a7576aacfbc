/**
 * The stream: the entry format the producer writes and workers decode, and the operator
 * report of `ingest stream inspect`.
 *
 * @module
 */

export * from "./entry.ts";
export * from "./inspect.ts";
export * from "./partition_set.ts";
export * from "./partitioned_inspect.ts";
export * from "./entry_counts.ts";
