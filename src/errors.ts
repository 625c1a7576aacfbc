/**
 * The one error hierarchy of `ingest`.
 *
 * Every error the core throws on purpose is an {@link IngestError} with a
 * machine-readable `code`, a `retryable` verdict and, where it wraps another
 * failure, a `cause`. Only `cli/main.ts` turns these into exit codes.
 *
 * @module
 */

/** Options shared by every {@link IngestError}. */
export interface IngestErrorOptions {
  /** The failure this error wraps, kept for logs and debugging. */
  cause?: unknown;
}

/** Base class: a failure the core understands and can explain. */
export class IngestError extends Error {
  /** Stable machine-readable identifier, e.g. `CONFIG_INVALID`. */
  readonly code: string;
  /** Whether trying the same operation again later may succeed. */
  readonly retryable: boolean;

  /** Builds an error with a machine-readable `code`. */
  constructor(code: string, message: string, retryable: boolean, options?: IngestErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
  }
}

/** Invalid configuration: `problems` lists every problem found, not just the first. */
export class ConfigError extends IngestError {
  /** Every problem found, one line each. */
  readonly problems: readonly string[];

  /** One error naming every problem. */
  constructor(problems: readonly string[], options?: IngestErrorOptions) {
    super(
      "CONFIG_INVALID",
      `Cannot start: the configuration has ${problems.length} problem${
        problems.length === 1 ? "" : "s"
      }:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      false,
      options,
    );
    this.problems = problems;
  }
}

/** The command was called wrongly (bad flag values, missing confirmation, ...). */
export class UsageError extends IngestError {
  /** A bad flag or argument (exit code 2). */
  constructor(message: string, options?: IngestErrorOptions) {
    super("USAGE", message, false, options);
  }
}

/** OAuth2 or login failure. `reauthRequired` means only `ingest auth setup` can fix it. */
export class AuthError extends IngestError {
  /** Only `ingest auth setup` can help (the grant was revoked or expired). */
  readonly reauthRequired: boolean;

  /** An authentication failure. */
  constructor(
    code: string,
    message: string,
    options?: IngestErrorOptions & { retryable?: boolean; reauthRequired?: boolean },
  ) {
    super(code, message, options?.retryable ?? false, options);
    this.reauthRequired = options?.reauthRequired ?? false;
  }
}

/** IMAP connection or protocol failure. Retryable unless stated otherwise. */
export class ImapError extends IngestError {
  /** An IMAP failure. */
  constructor(
    code: string,
    message: string,
    options?: IngestErrorOptions & { retryable?: boolean },
  ) {
    super(code, message, options?.retryable ?? true, options);
  }
}

/** Redis unreachable, refusing commands, or answering unexpectedly. */
export class RedisError extends IngestError {
  /** A Redis failure. */
  constructor(
    code: string,
    message: string,
    options?: IngestErrorOptions & { retryable?: boolean },
  ) {
    super(code, message, options?.retryable ?? true, options);
  }
}

/**
 * Thrown by a sink (or a `module:` handler) to say "this entry will never
 * succeed": the worker moves it straight to the dead-letter queue instead of
 * retrying.
 *
 * @example
 * ```ts
 * import { PermanentError } from "./mod.ts";
 * export function handle(email: { subject?: string }) {
 *   if (!email.subject) throw new PermanentError("no subject: cannot route");
 * }
 * ```
 */
export class PermanentError extends IngestError {
  /** A failure that must not be retried. */
  constructor(message: string, options?: IngestErrorOptions) {
    super("PERMANENT", message, false, options);
  }
}

/** A failure that is expected to pass: retry later with backoff. */
export class RetryableError extends IngestError {
  /** A failure worth retrying. */
  constructor(message: string, options?: IngestErrorOptions) {
    super("RETRYABLE", message, true, options);
  }
}

/** Whether `error` says trying again may help. Unknown errors count as retryable. */
export function isRetryable(error: unknown): boolean {
  return error instanceof IngestError ? error.retryable : true;
}

/** A one-line description of any thrown value, including its cause chain. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join(": caused by: ");
}
