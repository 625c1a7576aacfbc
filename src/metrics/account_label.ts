/**
 * The `account` label of metrics. Prometheus data is copied to dashboards,
 * alerts and chat messages, so it must never carry an email address: the
 * configured alias (`ACCOUNT_ALIAS`) is used, or else a short, stable,
 * non-reversible hash of the address that every process computes alike
 * (so `produce`, `work` and `metrics serve` label an account the same way).
 *
 * @module
 */

import { createHash } from "node:crypto";

/** Maps an account address to its metric label. */
export type AccountLabeler = (account: string) => string;

/** Options of {@link accountLabeler}. */
export interface AccountLabelOptions {
  /** The configured alias (`ACCOUNT_ALIAS`); unset or empty means "hash". */
  accountAlias?: string;
  /**
   * The address the alias names (`IMAP_USER`). Other accounts get the hash.
   * When unset, the alias labels every account.
   */
  account?: string;
}

/** `acct-` and 12 hex digits of SHA-256 of the lower-cased address. */
export function hashedAccountLabel(account: string): string {
  const digest = createHash("sha256").update(account.trim().toLowerCase()).digest("hex");
  return `acct-${digest.slice(0, 12)}`;
}

/** Builds the labeler for a configuration. */
export function accountLabeler(options: AccountLabelOptions = {}): AccountLabeler {
  const alias = options.accountAlias?.trim();
  const owner = options.account?.trim().toLowerCase();
  return (account) => {
    if (alias && (owner === undefined || owner === account.trim().toLowerCase())) return alias;
    return hashedAccountLabel(account);
  };
}
