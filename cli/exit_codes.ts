/**
 * The one place errors become exit codes and messages:
 * 0 ok, 1 runtime failure, 2 usage or configuration error, 3 `work --drain`
 * finished but dead-lettered entries during the run.
 *
 * @module
 */

import { CommanderError } from "@commander-js/extra-typings";
import { ConfigError, describeError, IngestError, UsageError } from "../src/errors.ts";
import {
  classifyRedisFailure,
  describeRedisFailure,
  isRedisOom,
} from "../src/redis/redis_failure.ts";

/** Exit codes of `ingest`. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2, DeadLettered: 3 } as const;

/** The exit code for a thrown value. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof UsageError) return ExitCode.Usage;
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  return ExitCode.Failure;
}

/** The message shown to the user for a thrown value (no stack for known errors). */
export function messageFor(error: unknown): string {
  if (error instanceof ConfigError) return `error: ${error.message}`;
  if (error instanceof IngestError) return `error [${error.code}]: ${error.message}`;
  // A raw Redis reply from an ops command: a full Redis gets its name and fix, not a stack.
  if (isRedisOom(error)) return `error [REDIS_OOM]: ${describeRedisFailure(error)}`;
  // A refused password or ACL permission from an ops command: what it is and the fix, no stack.
  const failure = classifyRedisFailure(error);
  if (failure.kind === "auth" || failure.kind === "permission") {
    return `error [${failure.code}]: ${failure.summary} (${describeError(error)}): ${failure.fix}`;
  }
  if (error instanceof Error) return `error: ${describeError(error)}\n${error.stack ?? ""}`;
  return `error: ${String(error)}`;
}
