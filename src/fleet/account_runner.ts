/**
 * One account followed by a fleet process: the account's producer
 * (`startProducer`, one IMAP connection per mailbox, the shared Redis client)
 * from claim to release, plus what the fleet reports about it (state, last
 * event, reconnects). The producer keeps its per-mailbox lease and the
 * commit's fencing: the account lease only decides who tries.
 *
 * @module
 */

import { GMAIL_MAX_CONNECTIONS } from "../imap/gmail_limits.ts";
import type { BackfillScheduler } from "../producer/backfill_scheduler.ts";
import type { AccountRecord } from "../accounts/registry.ts";
import type { Config } from "../config/config.ts";
import { describeError } from "../errors.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import type { Logger } from "../log/logger.ts";
import { accountLabeler } from "../metrics/account_label.ts";
import { combineObservers, type ProducerObserver } from "../observe/events.ts";
import { type ProducerHandle, type ProducerStatus, startProducer } from "../producer/producer.ts";
import type { StartPosition } from "../producer/start_position.ts";
import type { RedisClient } from "../redis/client.ts";
import {
  accountState,
  type FleetAccountRecord,
  type FleetAccountState,
  lastEventAt,
} from "./account_status.ts";

/** What every account's producer shares. */
export interface AccountRunnerDeps {
  readonly config: Config;
  /** The shared client of the process. */
  readonly redis: RedisClient;
  readonly logger: Logger;
  readonly observer?: ProducerObserver;
  /** Credentials of a registry account. */
  readonly credentials: (record: AccountRecord) => CredentialsProvider;
  /** The per-mailbox lease TTL (the same as the account lease's). */
  readonly leaseTtlMs: number;
  readonly idle?: boolean;
  readonly start?: StartPosition;
  /** Longest IDLE before a NOOP check (the watchdog heartbeat). */
  readonly idleHeartbeatMs?: number;
  /** The process-wide share of history backfill among all accounts. */
  readonly backfillScheduler?: BackfillScheduler;
}

/** One claimed account's producer; see the module documentation. */
export class AccountRunner {
  readonly account: string;
  readonly label: string;
  /** The registry record it was started with. */
  readonly record: AccountRecord;
  readonly #deps: AccountRunnerDeps;
  readonly #abort = new AbortController();
  #handle: ProducerHandle | undefined;
  #done: Promise<void> | undefined;
  /** When the producer ended on its own (every mailbox failed or parked); `undefined` while running. */
  endedAt: number | undefined;
  /** Being handed back: no longer counted in the share, still renewed until stopped. */
  releasing = false;
  #reconnects = 0;
  #lastError: { readonly message: string; readonly at: string } | null = null;
  readonly #seen = new Set<string>();

  constructor(record: AccountRecord, deps: AccountRunnerDeps) {
    this.record = record;
    this.#deps = deps;
    this.account = record.account;
    this.label = accountLabeler({
      accountAlias: record.alias ?? undefined,
      account: record.account,
    })(
      record.account,
    );
  }

  /** Whether the producer has been started. */
  get started(): boolean {
    return this.#done !== undefined;
  }

  /** Starts (or, after it ended on its own, restarts) the account's producer. */
  start(): void {
    if (this.#abort.signal.aborted) return;
    const { config, logger } = this.#deps;
    const record = this.record;
    const counting: ProducerObserver = {
      connectionState: (ref, state) => {
        if (state !== "connecting") return;
        if (this.#seen.has(ref.mailbox)) this.#reconnects++;
        this.#seen.add(ref.mailbox);
      },
    };
    const mailboxes = record.mailboxes.slice(0, GMAIL_MAX_CONNECTIONS);
    const accountLogger = logger.child({ account: this.label });
    if (record.mailboxes.length > mailboxes.length) {
      accountLogger.warn("more mailboxes than Gmail allows connections: following the first 15", {
        mailboxes: record.mailboxes.length,
      });
    }
    this.endedAt = undefined;
    const handle = this.#handle = startProducer({
      // The record's alias labels this account in logs, metrics and /status.
      config: { ...config, observability: { ...config.observability, accountAlias: this.label } },
      account: record.account,
      mailboxes: mailboxes.length > 0 ? mailboxes : undefined,
      credentials: this.#deps.credentials(record),
      redis: this.#deps.redis,
      logger,
      observer: combineObservers<ProducerObserver>(this.#deps.observer ?? {}, counting),
      signal: this.#abort.signal,
      idle: this.#deps.idle,
      start: this.#deps.start,
      leaseTtlMs: this.#deps.leaseTtlMs,
      idleHeartbeatMs: this.#deps.idleHeartbeatMs,
      backfillScheduler: this.#deps.backfillScheduler,
    });
    this.#done = handle.done.then(
      (result) => {
        if (this.#abort.signal.aborted) return;
        accountLogger.warn("account producer ended on its own", { outcomes: result.outcomes });
        this.#failed(Object.values(result.problems)[0] ?? "every mailbox ended");
      },
      (error) => {
        accountLogger.error("account producer failed", { error: describeError(error) });
        this.#failed(error instanceof Error ? error.message : String(error));
      },
    ).finally(() => {
      if (!this.#abort.signal.aborted) this.endedAt = Date.now();
    });
  }

  /** Why the producer last ended on its own (address replaced by the label), or `null`. */
  get lastError(): { readonly message: string; readonly at: string } | null {
    return this.#lastError;
  }

  #failed(message: string): void {
    const address = new RegExp(this.account.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
    this.#lastError = {
      message: message.replace(address, this.label),
      at: new Date().toISOString(),
    };
  }

  /** Stops the producer (its mailbox leases are released when it ends). */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  /** The producer's status (labels only), or `undefined` before it started. */
  producerStatus(): ProducerStatus | undefined {
    return this.#handle?.status();
  }

  /** Reconnects of its IMAP connections since the claim. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** What the fleet reports for the account now. */
  state(): FleetAccountState {
    const status = this.#handle?.status();
    if (status === undefined) return "syncing";
    const state = accountState(status.mailboxes);
    return this.endedAt !== undefined && state !== "needs_reauth" ? "backing_off" : state;
  }

  /** The account's entry of the status hash, owned by `owner`. */
  statusRecord(owner: string): FleetAccountRecord {
    const mailboxes = this.#handle?.status().mailboxes ?? [];
    return { state: this.state(), last_event_at: lastEventAt(mailboxes), owner };
  }

  /** Whether the producer is healthy enough for `/ready` (parked accounts do not count against). */
  ready(): boolean {
    return this.#handle?.ready().ready ?? false;
  }
}
