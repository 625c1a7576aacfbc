/**
 * A parked account (login rejected, OAuth2 grant dead) waits here until its
 * credentials change, so a long-running producer resumes by itself after
 * `ingest auth setup` without a restart, and never retries a login with the
 * credentials the server just refused (repeated bad logins can get an
 * account locked). A password comes from the frozen configuration, so it only
 * changes with a restart; an OAuth2 token changes after a new consent or its
 * next refresh.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import { sleep } from "../retry/backoff.ts";

/** Options of {@link waitForNewCredentials}. */
export interface ReauthWaitOptions {
  /** How often the credentials are asked for again. Default 60 s. */
  readonly recheckMs?: number;
  /** Ends the wait (the function then resolves `false`). */
  readonly signal: AbortSignal;
}

/** What identifies one set of credentials (`undefined`: none can be had right now). */
async function fingerprint(credentials: CredentialsProvider): Promise<string | undefined> {
  try {
    const current = await credentials.get();
    return "accessToken" in current
      ? `token\n${current.accessToken}`
      : `password\n${current.user}\n${current.pass}`;
  } catch {
    return undefined; // still refused (e.g. invalid_grant), or the provider is unreachable
  }
}

/**
 * Resolves `true` once `credentials` hands out credentials different from
 * those it hands out now (or now cannot), `false` when `signal` aborts.
 */
export async function waitForNewCredentials(
  credentials: CredentialsProvider,
  options: ReauthWaitOptions,
): Promise<boolean> {
  const recheckMs = options.recheckMs ?? 60_000;
  if (!(recheckMs > 0)) {
    throw new InvalidArgumentError(
      `Cannot wait for credentials: recheckMs must be > 0, current value is ${recheckMs}`,
    );
  }
  const rejected = await fingerprint(credentials);
  while (!options.signal.aborted) {
    await sleep(recheckMs, options.signal).catch(() => {});
    if (options.signal.aborted) break;
    const current = await fingerprint(credentials);
    if (current !== undefined && current !== rejected) return true;
  }
  return false;
}
