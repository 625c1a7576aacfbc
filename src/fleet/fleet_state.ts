/**
 * The mutable state of one fleet process, shared by its loop (fleet.ts)
 * and its status view (fleet_status.ts).
 *
 * @module
 */

import type { BackfillScheduler } from "../producer/backfill_scheduler.ts";
import type { AccountRecord } from "../accounts/registry.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import type { Logger } from "../log/logger.ts";
import type { AccountRunner } from "./account_runner.ts";
import type { FleetOptions } from "./fleet_options.ts";
import type { FleetMember } from "./membership.ts";

/** What a fleet process knows and runs. */
export interface FleetState {
  readonly options: FleetOptions;
  readonly processId: string;
  /** Time between ticks. */
  readonly tickMs: number;
  /** Lifetime of this process's heartbeat and account leases: the TTL minus one tick. */
  readonly holdMs: number;
  readonly logger: Logger;
  readonly credentials: (record: AccountRecord) => CredentialsProvider;
  /** One backfill scheduler for every account of the process: history shares it fairly. */
  readonly backfillScheduler: BackfillScheduler;
  /** The registry at {@link FleetState.version}, by address. */
  records: Map<string, AccountRecord>;
  /** Registry version last read (-1: never). */
  version: number;
  /** Accounts this process holds (releasing ones included until released). */
  readonly runners: Map<string, AccountRunner>;
  /** Hand-backs and stops in flight, awaited on shutdown. */
  readonly handovers: Set<Promise<void>>;
  /** Claimed accounts whose producers wait for their staggered start. */
  readonly starts: AccountRunner[];
  starting: boolean;
  /** Live processes at the last tick. */
  live: number;
  /** Fair share at the last tick. */
  share: number;
  /** Live processes at the last tick, by id. */
  members: readonly FleetMember[];
  /** Ticks run so far. */
  ticks: number;
  /** The status record JSON last written per held account. */
  written: Map<string, string>;
  /** The registry version that could not be read (logged once), if any. */
  unreadableVersion: number | undefined;
  /** When a tick last went through. */
  lastTickAt: number | undefined;
}
