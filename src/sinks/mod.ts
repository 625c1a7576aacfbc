/**
 * Sinks: where a worker delivers entries (stdout, file, webhook, exec, TypeScript module), the
 * `Sink` interface and the spec parser of `--sink`.
 *
 * @module
 */

export * from "./sink.ts";
export * from "./spec.ts";
