/**
 * Supervises one mailbox for as long as the producer runs: holds its lease
 * (or stands by), connects, runs sync rounds and waits for new mail with IDLE
 * (or polls) in between. Every failure is contained here: the supervisor
 * backs off and reconnects, or parks when the credentials need a person,
 * while other mailboxes carry on. What a round fetches and builds is
 * `sync_round.ts`; where it goes is the {@link Publisher} it was given.
 *
 * One supervisor per mailbox, owned by its caller: it holds no global state,
 * so one process can run many side by side.
 *
 * @module
 */

import { describeError, RedisError } from "../errors.ts";
import { changeFeed } from "../imap/change_feed.ts";
import type { ConnectionActivity } from "../imap/connection_watchdog.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import {
  type ImapServer,
  type MailboxSession,
  openMailboxSession,
} from "../imap/mailbox_session.ts";
import type { Logger } from "../log/logger.ts";
import { sleep } from "../retry/backoff.ts";
import { ChunkSizePolicy } from "./chunk_size.ts";
import { CursorMovedError, LeaseBusyError, LeaseLostError } from "./follower_errors.ts";
import { keepLease, type LeaseRenewal, waitForLease } from "./lease_standby.ts";
import type { MailboxReport } from "./mailbox_report.ts";
import type { Publisher } from "./publisher.ts";
import { parkAccount } from "./account_park.ts";
import { type BackfillLane, startHistory } from "./backfill_lane.ts";
import { decideReconnect, decideRedisRetry, redisFailureLog } from "./supervisor_decisions.ts";
import { startPoint, syncRound, type SyncRoundOptions } from "./sync_round.ts";
import { waitForMail } from "./wait_for_mail.ts";
import type { SupervisorSettings } from "./supervisor_settings.ts";

export type { SupervisorSettings } from "./supervisor_settings.ts";

/** What a supervisor works with. */
export interface SupervisorDeps {
  readonly server: ImapServer;
  readonly credentials: CredentialsProvider;
  readonly logger: Logger;
  /** The mailbox's status and observer hooks (shared with the publisher). */
  readonly report: MailboxReport;
  /** Where batches go (Redis, or a dry run). */
  readonly publisher: Publisher;
  /** The history lane of a mailbox without state; absent: the live rounds fetch history too. */
  readonly backfill?: BackfillLane;
}

/** How a supervisor ended. */
export type FollowerOutcome = "caught_up" | "stopped" | "parked" | "failed";

/** After one connection: end with an outcome, or connect again after `attempt` failures. */
type Step = { readonly end: FollowerOutcome } | {
  readonly end?: undefined;
  readonly attempt: number;
};

/** Most messages per IMAP fetch (at least one batch); at most two chunks are held. */
const FETCH_CHUNK_MESSAGES = 250;

/** Runs one mailbox; see the module documentation. */
export class MailboxSupervisor {
  readonly #deps: SupervisorDeps;
  readonly #s: SupervisorSettings;
  readonly #log: Logger;
  #session: MailboxSession | undefined;
  /** The history lane's connection, while one is open. */
  #laneSession: MailboxSession | undefined;
  #leaseLost = false;
  /** Fetch chunk size; kept across reconnects, so a connection that keeps dropping asks for less. */
  readonly #chunkSize: ChunkSizePolicy;
  /** The current connection committed something or finished a round (its failure then starts the backoff anew). */
  #progressed = false;

  constructor(deps: SupervisorDeps, settings: SupervisorSettings) {
    this.#deps = deps;
    this.#s = settings;
    this.#log = deps.logger;
    this.#chunkSize = new ChunkSizePolicy({
      max: Math.max(settings.batchSize, FETCH_CHUNK_MESSAGES),
    });
  }

  /** The open connection's activity (for `/ready`); `undefined` while none is open. */
  activity(): ConnectionActivity | undefined {
    return this.#session?.activity();
  }

  /** Closes the IMAP connection at once (shutdown deadline): in-flight work is abandoned. */
  forceClose(): void {
    this.#session?.close(0).catch(() => {});
    this.#laneSession?.close(0).catch(() => {});
  }

  /** Follows the mailbox until `signal` aborts, or until caught up with `once`. */
  async run(signal: AbortSignal): Promise<FollowerOutcome> {
    const { publisher: { lease }, report } = this.#deps;
    let attempt = 0;
    try {
      while (!signal.aborted) {
        const step = await this.#connection(attempt, signal);
        if (step.end) return step.end;
        attempt = step.attempt;
      }
      return "stopped";
    } finally {
      if (lease && report.status.leaseHeld) {
        await lease.release().catch(() => {});
        report.leaseChanged(false);
      }
      if (!report.status.parked) report.setState("stopped");
    }
  }

  /** One connection: lease, open, follow; a failure is decided on before the session closes. */
  async #connection(attempt: number, signal: AbortSignal): Promise<Step> {
    const { publisher: { lease }, report } = this.#deps;
    const work = new AbortController();
    const onAbort = () => work.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    let renewal: LeaseRenewal | undefined;
    try {
      if (lease) {
        await waitForLease(lease, { report, logger: this.#log, once: this.#s.once, signal });
        if (signal.aborted) return { end: "stopped" };
        renewal = keepLease(lease, {
          logger: this.#log,
          signal: work.signal,
          onLost: () => {
            this.#leaseLost = true;
            report.leaseChanged(false);
            work.abort(new LeaseLostError());
          },
        });
      }
      const outcome = await this.#follow(await this.#open(), work.signal);
      if (outcome === "caught_up") return { end: "caught_up" };
      this.#leaseLost = false; // after a lost lease: back to standby
      return { attempt: 0 };
    } catch (error) {
      if (signal.aborted) return { end: "stopped" };
      return await this.#afterFailure(error, attempt, renewal, signal);
    } finally {
      renewal?.stop();
      signal.removeEventListener("abort", onAbort);
      const session = this.#session;
      this.#session = undefined;
      await session?.close();
    }
  }

  async #open(): Promise<MailboxSession> {
    const { report } = this.#deps;
    report.setState("connecting");
    this.#progressed = false;
    const session = this.#session = await this.#connect();
    report.setState("connected");
    this.#log.info("mailbox opened", {
      uidvalidity: session.uidValidity,
      idle: this.#s.idle && session.supportsIdle,
      gmail: session.gmail,
    });
    return session;
  }

  #connect(): Promise<MailboxSession> {
    const { report, server, credentials } = this.#deps;
    return openMailboxSession({
      server,
      credentials,
      mailbox: report.ref.mailbox,
      logger: this.#log,
      onServerHeard: () => report.notify((o) => o.serverHeard?.(report.ref)),
      commandTimeoutMs: this.#s.commandTimeoutMs,
      watchChanges: this.#deps.publisher.changes !== undefined,
      // imapflow's inactivity probe is a backstop: it must not break a NOOP-checked IDLE.
      socketTimeoutMs: this.#s.idleHeartbeatMs + 2 * this.#s.commandTimeoutMs,
    });
  }

  /** Lease lost, park, stop, give up, or back off and connect again. */
  async #afterFailure(
    error: unknown,
    attempt: number,
    renewal: LeaseRenewal | undefined,
    signal: AbortSignal,
  ): Promise<Step> {
    const { report } = this.#deps;
    if (error instanceof LeaseLostError || this.#leaseLost) {
      this.#leaseLost = false;
      report.leaseChanged(false);
      this.#log.warn("lease lost to another producer: standing by");
      return { attempt };
    }
    report.recordError(error);
    if (error instanceof LeaseBusyError) return { end: "failed" };
    const { retry, once, onceMaxAttempts } = this.#s;
    const progressed = this.#progressed;
    const next = decideReconnect({ error, attempt, progressed, retry, once, onceMaxAttempts });
    const { decision } = next;
    if (decision.action !== "retry") {
      renewal?.stop();
      if (decision.action === "stop") return { end: this.#stop(error) };
      const { credentials, publisher: { lease } } = this.#deps;
      const resumed = await parkAccount(error, {
        report,
        credentials,
        lease,
        logger: this.#log,
        once,
        recheckMs: this.#s.reauthRecheckMs,
        signal,
      });
      return resumed ? { attempt: 0 } : { end: "parked" };
    }
    if (next.giveUp) {
      report.notify((o) => o.error?.(report.ref, error, undefined));
      this.#log.error("giving up on mailbox", {
        error: describeError(error),
        attempts: next.attempts,
      });
      return { end: "failed" };
    }
    report.notify((o) => o.error?.(report.ref, error, decision.delayMs));
    this.#log.warn("mailbox failed: retrying", {
      error: describeError(error),
      kind: decision.kind,
      retry_in_ms: decision.delayMs,
    });
    report.setState("disconnected");
    await sleep(decision.delayMs, signal).catch(() => {});
    return { attempt: next.attempts };
  }

  /** Ends the supervisor on a configuration problem: the same attempt would fail the same way. */
  #stop(error: unknown): FollowerOutcome {
    const { report } = this.#deps;
    report.notify((o) => o.error?.(report.ref, error, undefined));
    this.#log.error("mailbox stopped: configuration problem", { error: describeError(error) });
    return "failed";
  }

  /** Sync, wait for mail, sync again; returns when aborted or (with `once`) caught up. */
  async #follow(session: MailboxSession, signal: AbortSignal): Promise<"caught_up" | "stopped"> {
    const { publisher, backfill, report } = this.#deps;
    const [base, { uidValidity }] = [startPoint(session, this.#s.start), session];
    const start = backfill?.startPoint(base, session) ?? base;
    let position = await publisher.prepare(uidValidity, start);
    // The history lane's own connection: closed by the lane, cut at the end and by forceClose().
    const open = async () => this.#laneSession = await this.#connect();
    const history = startHistory(backfill, { uidValidity, open, once: this.#s.once, signal });
    let redisFailures = 0;
    // Live rounds go ahead of every history backfill in the process.
    const round = () => syncRound(session, position, this.#roundOptions(session, signal));
    try {
      while (!signal.aborted) {
        try {
          position = await (backfill?.live(round) ?? round());
          this.#progressed = true; // a whole round: this connection worked
          redisFailures = 0;
          report.status.redisRefusing = null;
        } catch (error) {
          if (error instanceof CursorMovedError) {
            // A commit that did apply although its reply was lost (Redis outage), or an
            // `ingest state reset`: either way the stored cursor is the truth.
            this.#log.warn("cursor is not where this producer left it: re-reading it");
            position = await publisher.prepare(uidValidity, start);
            continue;
          }
          // Redis is down but IMAP is fine: keep the session, wait, and retry the round.
          if (!(error instanceof RedisError) || session.closed) throw error;
          await this.#waitOutRedis(error, redisFailures++, session, signal);
          continue;
        }
        if (this.#s.once) return await history.done.then(() => "caught_up" as const);
        if (signal.aborted || !await waitForMail(session, report, this.#s, signal)) break;
      }
      return "stopped";
    } finally {
      this.#laneSession?.close(0).catch(() => {});
      await history.stop();
    }
  }

  #roundOptions(session: MailboxSession, signal: AbortSignal): SyncRoundOptions {
    return {
      publisher: this.#deps.publisher,
      report: this.#deps.report,
      batchSize: this.#s.batchSize,
      limits: this.#s.limits,
      policy: this.#chunkSize,
      changes: this.#deps.publisher.changes && changeFeed(session),
      keepAlive: () => session.ping(this.#s.pingTimeoutMs),
      onPublished: () => this.#progressed = true,
      signal,
    };
  }

  /** After a Redis failure: wait (capped at 10 s), keep IMAP alive; `once` gives up eventually. */
  async #waitOutRedis(
    error: RedisError,
    failures: number,
    session: MailboxSession,
    signal: AbortSignal,
  ): Promise<void> {
    const { report } = this.#deps;
    const { retry, once, onceMaxAttempts } = this.#s;
    const next = decideRedisRetry(error, failures, { retry, once, onceMaxAttempts });
    if (next.giveUp) throw error;
    report.recordError(error);
    report.notify((o) => o.error?.(report.ref, error, next.delayMs));
    const { message, fields } = redisFailureLog(error);
    report.status.redisRefusing ??= {
      kind: fields.redis_failure ?? "other",
      since: new Date().toISOString(),
    };
    this.#log.warn(message, { error: describeError(error), ...fields, retry_in_ms: next.delayMs });
    await sleep(next.delayMs, signal).catch(() => {});
    if (!signal.aborted) await session.ping(this.#s.pingTimeoutMs);
  }
}
