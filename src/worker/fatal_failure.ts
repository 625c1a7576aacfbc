/**
 * Redis failures that stop the worker instead of being retried: the ACL
 * refusing a command the worker needs (`NOPERM`). Retrying cannot mend it,
 * and retrying for ever would keep `work --drain` from ending while the
 * same entries are handed to the sink again and again; like the producer,
 * the worker stops with `REDIS_NOPERM`, the refused command and the
 * `ACL SETUSER` line that grants it (exit 1 from `ingest work`).
 *
 * @module
 */

import type { RedisConfig } from "../config/config.ts";
import type { RedisError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { permissionError } from "../redis/acl_denial.ts";

/** The first failure that stops a worker, once there is one. */
export class FatalFailure {
  readonly #config: RedisConfig;
  readonly #log: Logger;
  #error: RedisError | undefined;

  /** Failures are read against `config` (for the fix line) and logged to `log`. */
  constructor(config: RedisConfig, log: Logger) {
    this.#config = config;
    this.#log = log;
  }

  /** Whether a failure stops the worker. */
  get stopping(): boolean {
    return this.#error !== undefined;
  }

  /** Keeps `error` when it stops the worker (the first one wins); returns whether it does. */
  note(error: unknown, doing: string): boolean {
    const fatal = permissionError(doing, error, this.#config);
    if (fatal === undefined) return false;
    if (this.#error === undefined) {
      this.#error = fatal;
      this.#log.error("stopping: the Redis ACL refuses a command the worker needs", {
        error: fatal.message,
      });
    }
    return true;
  }

  /** Throws the failure that stopped the worker, if any; else returns `value`. */
  check<T>(value: T): T {
    if (this.#error !== undefined) throw this.#error;
    return value;
  }
}
