/**
 * How many accounts a fleet process should follow, and which: its fair share
 * is `ceil(accounts / live processes)` (at most `--max-accounts`), so N
 * processes split the registry within one account of even. Beyond its share
 * a process releases accounts; below it, it tries free ones. Each process
 * tries (and gives up) accounts in its own order (rendezvous hashing on the
 * process id), so processes starting together rarely race for one account.
 *
 * Pure logic: the fleet loop feeds it what Redis said this tick.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** What {@link planShare} decides from. */
export interface ShareInput {
  /** This process. */
  readonly processId: string;
  /** Every registered account. */
  readonly registered: readonly string[];
  /** Accounts this process holds (registered ones; removed ones are the caller's). */
  readonly held: readonly string[];
  /** Live processes of the fleet, this one included (at least 1 is assumed). */
  readonly liveMembers: number;
  /** `--max-accounts`: never more than this many. */
  readonly maxAccounts: number;
}

/** What this process should do this tick. */
export interface SharePlan {
  /** Its fair share. */
  readonly share: number;
  /** Held accounts to hand back (over the share). */
  readonly release: readonly string[];
  /** Free accounts to try, best first; claim at most {@link SharePlan.want}. */
  readonly candidates: readonly string[];
  /** How many more accounts it may claim. */
  readonly want: number;
}

/** This process's fair share and what to claim or release; see the module documentation. */
export function planShare(input: ShareInput): SharePlan {
  const live = Math.max(1, input.liveMembers);
  const share = Math.min(input.maxAccounts, Math.ceil(input.registered.length / live));
  const held = new Set(input.held);
  const rank = (account: string) => rendezvousRank(input.processId, account);
  if (held.size > share) {
    // Give up the accounts this process ranks lowest: the same ones every tick.
    const release = [...held].sort((a, b) => rank(b).localeCompare(rank(a)));
    return { share, release: release.slice(0, held.size - share), candidates: [], want: 0 };
  }
  const want = share - held.size;
  if (want === 0) return { share, release: [], candidates: [], want };
  const candidates = input.registered.filter((account) => !held.has(account))
    .sort((a, b) => rank(a).localeCompare(rank(b)));
  return { share, release: [], candidates, want };
}

/** A process's preference for an account: lower ranks first. */
export function rendezvousRank(processId: string, account: string): string {
  return createHash("sha256").update(`${processId}\n${account}`).digest("hex").slice(0, 16);
}
