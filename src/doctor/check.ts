/**
 * The result of one `ingest doctor` check and the helpers every check uses.
 *
 * @module
 */

import { describeError } from "../errors.ts";
import { withDeadline } from "../async/deadline.ts";

/** `fail` makes the doctor exit non-zero; `warn` does not; `skip` means it could not run. */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

/** One check: a stable dotted name, what was found, and how to fix it when not `pass`. */
export interface CheckResult {
  /** Stable identifier, e.g. `redis.maxmemory_policy`. */
  readonly name: string;
  /** pass, warn, fail or skip. */
  readonly status: CheckStatus;
  /** What was found, in one sentence. */
  readonly detail: string;
  /** What to do about a `fail` or `warn`; `undefined` when nothing is needed. */
  readonly fix: string | undefined;
}

/** Builds a {@link CheckResult}. */
export function result(
  name: string,
  status: CheckStatus,
  detail: string,
  fix?: string,
): CheckResult {
  return { name, status, detail, fix };
}

/** Settles like `step()`, or rejects once `timeoutMs` have passed (so the doctor never hangs). */
export function within<T>(timeoutMs: number, what: string, step: () => Promise<T>): Promise<T> {
  return withDeadline(step(), timeoutMs, what);
}

/** A failure's message for a check's detail. */
export function reason(error: unknown): string {
  return describeError(error);
}

/** Whether `host` is a loopback address (plaintext is fine there). */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}
