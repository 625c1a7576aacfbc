/**
 * What `ingest accounts add` is asked to store, checked before anything is
 * written: every problem is collected so one message names them all.
 *
 * @module
 */

import { GMAIL_MAX_CONNECTIONS } from "../imap/gmail_limits.ts";
import type { AccountAuth, AccountRecord } from "./registry.ts";

/**
 * Gmail's connection limit per account ({@link GMAIL_MAX_CONNECTIONS}): the
 * fleet opens one per followed mailbox, so an account follows at most this many.
 */
export const MAX_MAILBOXES_PER_ACCOUNT = GMAIL_MAX_CONNECTIONS;

/** The mailboxes followed when `--mailbox` is not given. */
export const DEFAULT_MAILBOXES: readonly string[] = ["INBOX"];

/** The request of `accounts add`, as given (flags not given are `undefined`). */
export interface AccountInput {
  /** The address (IMAP user). */
  readonly account: string;
  /** `--auth`; default: the existing record's on update, else `oauth2`. */
  readonly auth?: string;
  /** `--mailbox`, repeated; default: the existing record's on update, else `INBOX`. */
  readonly mailboxes?: readonly string[];
  /** `--alias`; default: the existing record's on update, else none (a hashed id is used). */
  readonly alias?: string;
  /** The password read from stdin (`--password-stdin`); `undefined` when not given. */
  readonly password?: string;
  /** Whether `INGEST_TOKEN_KEY` is configured (a password must be sealed). */
  readonly tokenKeyConfigured: boolean;
}

/** The settled fields of the record to write (before the password is sealed). */
export interface AccountPlan {
  readonly account: string;
  readonly auth: AccountAuth;
  readonly mailboxes: readonly string[];
  readonly alias: string | null;
  /** A new password to seal; `undefined` keeps the existing one (or none, for oauth2). */
  readonly password: string | undefined;
}

// Rejects what breaks key names (':' separates key parts, '{' '}' are hash tags) and blanks.
const ADDRESS = /^[^\s@:{}]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$/;
// Aliases label logs and metrics: short, no spaces, no address.
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
// deno-lint-ignore no-control-regex -- control characters are exactly what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Problems with the address alone (also used by show and remove). */
export function addressProblems(account: string): string[] {
  if (account.length > 254 || !ADDRESS.test(account)) {
    return [
      `--account "${account}" is not an email address (name@domain, without spaces, ':' or braces)`,
    ];
  }
  return [];
}

/**
 * Checks `input` against the `existing` record (`undefined` for a new
 * account) and the aliases other accounts use. Returns the plan, or the
 * list of every problem.
 */
export function planAccount(
  input: AccountInput,
  existing: AccountRecord | undefined,
  otherAliases: ReadonlySet<string>,
): { plan: AccountPlan; problems: [] } | { plan: undefined; problems: string[] } {
  const problems = addressProblems(input.account);
  const auth = input.auth ?? existing?.auth ?? "oauth2";
  if (auth !== "oauth2" && auth !== "password") {
    problems.push(`--auth "${auth}" is not one of oauth2, password`);
  }
  const mailboxes = input.mailboxes ?? existing?.mailboxes ?? DEFAULT_MAILBOXES;
  problems.push(...mailboxProblems(mailboxes));
  const alias = input.alias ?? existing?.alias ?? null;
  if (alias !== null && !ALIAS.test(alias)) {
    problems.push(
      `--alias "${alias}" must be 1-63 letters, digits, '_', '.' or '-' (it labels logs and metrics)`,
    );
  } else if (alias !== null && otherAliases.has(alias)) {
    problems.push(`--alias "${alias}" is already used by another account`);
  }
  problems.push(...passwordProblems(input, auth, existing));
  if (problems.length > 0) return { plan: undefined, problems };
  return {
    plan: {
      account: input.account,
      auth: auth as AccountAuth,
      mailboxes: [...mailboxes],
      alias,
      password: auth === "password" ? input.password : undefined,
    },
    problems: [],
  };
}

function mailboxProblems(mailboxes: readonly string[]): string[] {
  const problems: string[] = [];
  if (mailboxes.length > MAX_MAILBOXES_PER_ACCOUNT) {
    problems.push(
      `${mailboxes.length} mailboxes given: at most ${MAX_MAILBOXES_PER_ACCOUNT} per account ` +
        `(Gmail allows ${MAX_MAILBOXES_PER_ACCOUNT} IMAP connections per account, one per mailbox)`,
    );
  }
  const seen = new Set<string>();
  for (const mailbox of mailboxes) {
    if (mailbox.trim() === "" || CONTROL.test(mailbox)) {
      problems.push(`--mailbox "${mailbox}" is empty or holds control characters`);
    } else if (seen.has(mailbox)) {
      problems.push(`--mailbox "${mailbox}" is given twice`);
    }
    seen.add(mailbox);
  }
  return problems;
}

function passwordProblems(
  input: AccountInput,
  auth: string,
  existing: AccountRecord | undefined,
): string[] {
  const given = input.password !== undefined;
  if (auth === "oauth2") {
    return given
      ? ["--password-stdin is only for --auth password (oauth2 accounts use ingest auth setup)"]
      : [];
  }
  if (auth !== "password") return [];
  const problems: string[] = [];
  const hasStored = existing?.auth === "password" && existing.password_sealed !== null;
  if (!given && !hasStored) {
    problems.push("--auth password needs --password-stdin (the password is read from stdin)");
  }
  if (given && input.password === "") {
    problems.push("--password-stdin read an empty password (give it as the first line of stdin)");
  }
  if ((given || !hasStored) && !input.tokenKeyConfigured) {
    problems.push(
      "INGEST_TOKEN_KEY is not set: a password is stored sealed under it. Generate one: " +
        "openssl rand -base64 32",
    );
  }
  return problems;
}
