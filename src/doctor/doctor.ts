/**
 * `ingest doctor` without the CLI: every check a production run depends on,
 * each with a verdict and a fix, bounded in time so the doctor never hangs.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { credentialsFor } from "../auth/token_provider.ts";
import type { Logger } from "../log/logger.ts";
import type { TokenStore } from "../auth/token_store.ts";
import type { CheckResult, CheckStatus } from "./check.ts";
import { checkGroups } from "./group_checks.ts";
import { checkImap } from "./imap_checks.ts";
import { checkRedis } from "./redis_checks.ts";
import { checkToken } from "./token_checks.ts";

export type { CheckResult, CheckStatus } from "./check.ts";

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** Logs progress (checks never log secrets). */
  logger: Logger;
  /** Bound on each connection and command. Default 10 s. */
  timeoutMs?: number;
  /** Token store; default: `GOOGLE_TOKEN_FILE`. */
  tokenStore?: TokenStore;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

/** Every check's result and the verdict. */
export interface DoctorReport {
  /** No check failed (warnings allowed). */
  readonly ok: boolean;
  /** How many checks ended in each status. */
  readonly summary: Readonly<Record<CheckStatus, number>>;
  /** Redis checks, clock, consumer groups, token checks, IMAP checks — always in this order. */
  readonly checks: readonly CheckResult[];
}

/** Runs every check; Redis and the token/IMAP chain run side by side. */
export async function runDoctor(config: Config, options: DoctorOptions): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const redis = checkRedis(config.redis, { logger: options.logger, timeoutMs, now: options.now });
  const imap = (async () => {
    const token = await checkToken(config, {
      logger: options.logger,
      timeoutMs,
      store: options.tokenStore,
      now: options.now,
    });
    const account = config.imap.user;
    let credentials = token.credentials;
    let skipLoginReason: string | undefined;
    if (config.imap.auth === "password") {
      credentials = account === undefined
        ? undefined
        : credentialsFor(config, account, options.logger);
      if (account === undefined) skipLoginReason = "IMAP_USER is not set";
    } else if (credentials === undefined) {
      skipLoginReason = "no usable OAuth2 token (see the token checks)";
    }
    const imapResults = await checkImap(config.imap, {
      timeoutMs,
      credentials,
      skipLoginReason,
      logger: options.logger,
    });
    return [...token.results, ...imapResults];
  })();
  const groups = checkGroups(config, { logger: options.logger, timeoutMs });
  const checks = [...(await redis), await groups, ...(await imap)];
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) summary[check.status]++;
  return { ok: summary.fail === 0, summary, checks };
}
