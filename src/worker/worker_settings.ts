/**
 * The worker's tunables with their defaults, written once, and the limits
 * the loop puts on them.
 *
 * @module
 */

import { numericDefault } from "../config/variables.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { WorkerOptions } from "./worker_types.ts";

/** Default of `concurrency`. */
export const DEFAULT_CONCURRENCY = numericDefault("WORKER_CONCURRENCY");
/** Default of `visibilityTimeoutMs`. */
export const DEFAULT_VISIBILITY_TIMEOUT_MS = numericDefault("WORKER_VISIBILITY_TIMEOUT_SECONDS") *
  1000;
/** Default of `blockMs`. */
export const DEFAULT_BLOCK_MS = 1_000;
/** Longest blocking read, whatever `blockMs` says. */
export const MAX_BLOCK_MS = 2_000;
/** Shortest wait of the loop. */
export const MIN_TICK_MS = 10;
/** Default of `shutdownTimeoutMs`. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = numericDefault("WORKER_SHUTDOWN_TIMEOUT_SECONDS") * 1000;
/** After the shutdown timeout, how long aborted handlers get to return. */
export const ABORT_GRACE_MS = 2_000;
/** Above this `concurrency` a read asks for half of it ({@link WorkerSettings.readBatch}). */
export const SPLIT_READS_ABOVE = 256;

/** The settings one worker runs with, all ms but `concurrency`. */
export interface WorkerSettings {
  /** Sink calls at once. */
  readonly concurrency: number;
  /** Entries in hand at most: `concurrency` plus those read ahead of the sink calls. */
  readonly capacity: number;
  /**
   * Entries one read asks for at most: `concurrency`, or half of it above
   * {@link SPLIT_READS_ABOVE}. Two read batches then fit in the sink calls at
   * once, so a sink that commits in groups (the file sink) takes one batch
   * while the one before it syncs; with smaller batches the extra round trips
   * cost more than that overlap gives (docs/WORKER_PROFILE.md, wave 9).
   */
  readonly readBatch: number;
  readonly visibilityMs: number;
  /** Longest blocking read; also the loop's tick. */
  readonly blockMs: number;
  readonly shutdownTimeoutMs: number;
}

/** Applies the defaults and limits to `options`; throws an InvalidArgumentError on a bad concurrency. */
export function workerSettings(
  options: Pick<
    WorkerOptions,
    "concurrency" | "readAhead" | "visibilityTimeoutMs" | "blockMs" | "shutdownTimeoutMs"
  >,
): WorkerSettings {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgumentError(
      `Cannot start the worker: concurrency must be a whole number >= 1, current value is ${concurrency}`,
    );
  }
  const readAhead = options.readAhead ?? 0;
  if (!Number.isInteger(readAhead) || readAhead < 0) {
    throw new InvalidArgumentError(
      `Cannot start the worker: readAhead must be a whole number >= 0, current value is ${readAhead}`,
    );
  }
  const visibilityMs = options.visibilityTimeoutMs ?? DEFAULT_VISIBILITY_TIMEOUT_MS;
  // The loop must come round often enough to touch slow handlers' entries
  // (every third of the visibility timeout) and to see a stop request.
  const blockMs = Math.max(
    MIN_TICK_MS,
    Math.min(options.blockMs ?? DEFAULT_BLOCK_MS, MAX_BLOCK_MS, Math.floor(visibilityMs / 3)),
  );
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  return {
    concurrency,
    capacity: concurrency + readAhead,
    readBatch: concurrency > SPLIT_READS_ABOVE ? Math.ceil(concurrency / 2) : concurrency,
    visibilityMs,
    blockMs,
    shutdownTimeoutMs,
  };
}
