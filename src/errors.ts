/**
 * The one error hierarchy of `ingest`, and the one list of its error codes.
 *
 * Every error the core throws on purpose is an {@link IngestError} with a
 * machine-readable `code` from {@link ERROR_CODES}, a `retryable` verdict and,
 * where it wraps another failure, a `cause`. Only `cli/main.ts` turns these
 * into exit codes. docs/ERRORS.md lists the codes; `src/errors_test.ts` checks
 * that it matches this table.
 *
 * @module
 */

/**
 * Every error code `ingest` uses, with what it means for the user (a
 * declarative table: one row per code). The CLI prints the code in brackets,
 * e.g. `error [REDIS_UNREACHABLE]: ...`; scripts and runbooks may match on it.
 */
export const ERROR_CODES = {
  // Configuration and usage.
  CONFIG_INVALID: "The configuration has problems; each one is listed with its fix.",
  USAGE: "A command was called wrongly (a bad flag value, a missing confirmation).",
  INVALID_ARGUMENT: "A core function was called with an option out of its range.",
  INTERNAL: "An invariant of ingest did not hold: a bug, please report it.",
  TIMED_OUT: "An operation did not finish within its deadline.",
  NOT_FOUND: "What a command was asked to act on does not exist (e.g. a consumer group).",
  OUTPUT_CLOSED: "stdout was closed by the reader (e.g. `| head`); the command stops quietly.",
  // Sinks and entries.
  PERMANENT: "A sink said the entry will never succeed: it goes to the dead-letter queue.",
  RETRYABLE: "A sink failed in a way that may pass: the entry is retried with backoff.",
  ENTRY_MALFORMED: "A stream entry cannot be decoded (unknown type, bad JSON or schema).",
  SETTLE_ABANDONED:
    "At shutdown the worker gave up settling an entry: it stays pending, redelivered.",
  // Producer coordination.
  REGISTRY_CORRUPT: "A record of the account registry in Redis cannot be read.",
  LEASE_LOST: "Another producer took over the mailbox lease.",
  LEASE_BUSY: "Another producer holds the mailbox lease, and `--once` gave up waiting.",
  CURSOR_MOVED: "The cursor was changed by someone else (e.g. `ingest state reset`).",
  BACKFILL_PAUSED:
    "A mailbox's history backfill paused: the account's daily download budget is used up.",
  // Redis.
  REDIS_UNREACHABLE: "Redis cannot be reached (refused, reset, timed out, retries exhausted).",
  REDIS_OOM: "Redis is past maxmemory with noeviction and refuses writes.",
  REDIS_LOADING: "Redis is loading its dataset after a restart.",
  REDIS_READONLY: "Redis refuses writes: it is a read-only replica.",
  REDIS_BUSY: "Redis is busy (a long script, or a cluster slot being moved).",
  REDIS_AUTH: "Wrong Redis password or ACL user (WRONGPASS), or none given (NOAUTH).",
  REDIS_NOPERM: "The Redis ACL user may not run a command or touch a key (NOPERM).",
  REDIS_NOT_REDIS: "The configured Redis address answers, but not in the Redis protocol.",
  REDIS_BAD_REPLY: "Redis answered something ingest did not expect.",
  REDIS_REPLICAS_BEHIND:
    "Fewer replicas than REDIS_WAIT_REPLICAS confirmed a commit in time; the round is retried.",
  REDIS_FAILED: "A Redis command failed for another reason.",
  // IMAP.
  IMAP_CONNECTION: "The IMAP connection failed (network, TLS, reset); the producer reconnects.",
  IMAP_CLOSED: "The IMAP server closed the connection; the producer reconnects.",
  IMAP_STALLED: "The IMAP server went silent while a command waited; the producer reconnects.",
  IMAP_THROTTLED: "The IMAP server asks to slow down (Gmail [THROTTLED], [OVERQUOTA]).",
  IMAP_REFUSED: "The IMAP server refused one command (NO/BAD); the connection stays usable.",
  IMAP_LOGIN_REJECTED: "The IMAP server rejected the login; fix the credentials.",
  IMAP_MAILBOX_NOT_FOUND: "The configured mailbox does not exist on the server.",
  // OAuth2 provider.
  OAUTH_UNAVAILABLE: "The OAuth2 provider cannot be reached or answered 5xx/429; retried.",
  OAUTH_INVALID_CLIENT: "The provider rejected GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET.",
  OAUTH_INVALID_REQUEST: "The provider rejected the request as malformed.",
  OAUTH_INVALID_SCOPE: "The provider rejected the requested scope.",
  OAUTH_INVALID_TOKEN: "The provider does not know the token (e.g. when revoking).",
  OAUTH_UNAUTHORIZED_CLIENT: "The OAuth client may not use this grant type.",
  OAUTH_UNSUPPORTED_GRANT_TYPE: "The provider does not support this grant type.",
  OAUTH_REJECTED: "The provider rejected the request for another reason (see the message).",
  INVALID_GRANT: "The provider refused the refresh token (revoked or expired).",
  REAUTH_REQUIRED:
    "The account needs a new consent (no token, or a dead grant): `ingest auth setup`.",
  TOKEN_RESPONSE_INVALID: "The token endpoint answered without an access token.",
  USERINFO_FAILED: "The account's address could not be read from the provider.",
  REVOKE_FAILED: "The provider did not confirm revoking the token.",
  // `ingest auth setup`.
  SETUP_ABORTED: "Setup was interrupted; nothing was stored.",
  SETUP_TIMEOUT: "No consent arrived in time.",
  SETUP_ACCESS_DENIED: "The user declined the consent screen.",
  SETUP_CONSENT_ERROR: "The consent redirect carried an error from the provider.",
  SETUP_STATE_MISMATCH: "The consent redirect does not belong to this setup (wrong `state`).",
  SETUP_NO_CODE: "The consent redirect carried no authorization code.",
  SETUP_NO_REFRESH_TOKEN: "The provider granted no refresh token.",
  SETUP_SCOPE_NOT_GRANTED: "The user did not grant the Gmail scope.",
  SETUP_ACCOUNT_MISMATCH: "Consent was given for another account than the one asked for.",
  // Token file (GOOGLE_TOKEN_FILE) and its key (INGEST_TOKEN_KEY).
  TOKEN_FILE_UNREADABLE: "The token file cannot be read (missing directory, not a file).",
  TOKEN_FILE_WRITE: "The token file cannot be written.",
  TOKEN_FILE_PERMISSIONS: "The token file is readable by others: chmod 600 it.",
  TOKEN_FILE_CORRUPT: "The token file is not valid JSON of the expected shape.",
  TOKEN_FILE_VERSION: "The token file was written by a newer, unknown format version.",
  TOKEN_FILE_TAMPERED: "The token file's encrypted content fails authentication.",
  TOKEN_KEY_MISSING: "The token file is encrypted but INGEST_TOKEN_KEY is not set.",
  TOKEN_KEY_INVALID: "INGEST_TOKEN_KEY is not a valid key.",
  TOKEN_KEY_MISMATCH: "INGEST_TOKEN_KEY is not the key the token file was encrypted with.",
} as const satisfies Record<string, string>;

/** A code from {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `value` is one of the {@link ERROR_CODES}. */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/** Options shared by every {@link IngestError}. */
export interface IngestErrorOptions {
  /** The failure this error wraps, kept for logs and debugging. */
  cause?: unknown;
}

/** Base class: a failure the core understands and can explain. */
export class IngestError extends Error {
  /** Stable machine-readable identifier from {@link ERROR_CODES}, e.g. `CONFIG_INVALID`. */
  readonly code: ErrorCode;
  /** Whether trying the same operation again later may succeed. */
  readonly retryable: boolean;

  /** Builds an error with a machine-readable `code`. */
  constructor(
    code: ErrorCode,
    message: string,
    retryable: boolean,
    options?: IngestErrorOptions,
  ) {
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
    code: ErrorCode,
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
    code: ErrorCode,
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
    code: ErrorCode,
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

/**
 * A core function was called with an option out of its range (a programming
 * error of the caller, not an operational failure): "Cannot X: current value
 * is Y".
 */
export class InvalidArgumentError extends IngestError {
  /** An argument check failed (code `INVALID_ARGUMENT`, not retryable). */
  constructor(message: string, options?: IngestErrorOptions) {
    super("INVALID_ARGUMENT", message, false, options);
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
