/**
 * Follows one mailbox for as long as the producer runs: holds its lease (or
 * stands by), connects, brings the cursor in line with the mailbox
 * (`--start`, UIDVALIDITY changes), syncs new UIDs in batches with one atomic
 * commit each, then waits for new mail with IDLE (or polls) and syncs again.
 * Every failure is contained here: the follower backs off and reconnects, or
 * parks when the credentials need a person, while other mailboxes carry on.
 *
 * @module
 */

import type { Redis } from "ioredis";
import { describeError, ImapError, IngestError, RedisError } from "../errors.ts";
import type { ConnectionActivity } from "../imap/connection_watchdog.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import {
  type FetchedBatch,
  type FetchLimits,
  type ImapServer,
  type MailboxSession,
  openMailboxSession,
} from "../imap/mailbox_session.ts";
import { buildEmailPayload } from "../imap/message_payload.ts";
import type { Logger } from "../log/logger.ts";
import type { ProducerObserver } from "../observe/events.ts";
import { bandwidthHour, bandwidthKey, cursorKey, type MailboxRef } from "../redis/keys.ts";
import { classifyRedisFailure, redisFailureError } from "../redis/redis_failure.ts";
import { sleep } from "../retry/backoff.ts";
import { type EmailPayload, type MailboxResetPayload, SCHEMA_VERSION } from "../stream/entry.ts";
import { streamBacklog } from "./backlog.ts";
import { fetchChunks } from "./chunk_fetcher.ts";
import { ChunkSizePolicy } from "./chunk_size.ts";
import { commitBatch, type CommitEntry } from "./commit.ts";
import { decideAfterFailure, type RetryPolicy } from "./failure_policy.ts";
import { MailboxLease } from "./lease.ts";
import { waitForNewCredentials } from "./reauth_wait.ts";
import type { FollowerState, MailboxStatus } from "./mailbox_status.ts";
import type { StartPosition } from "./start_position.ts";
import { trimStream } from "./trim.ts";

/** Longest wait between rounds retried after a Redis failure (full, down), ms. */
const REDIS_RETRY_CAP_MS = 10_000;

/** Tuning of a follower (all durations in ms). */
export interface FollowerSettings {
  readonly stream: string;
  readonly maxStreamLength: number;
  readonly backlogLimit: number;
  readonly batchSize: number;
  readonly limits: FetchLimits;
  /** Wait between polls when IDLE is off or unavailable. */
  readonly pollIntervalMs: number;
  /** Longest IDLE before a NOOP checks the connection and IDLE is issued again. */
  readonly idleHeartbeatMs: number;
  /** How long a NOOP may take before the connection counts as dead. */
  readonly pingTimeoutMs: number;
  /** Server silence while a command is outstanding before the connection is reopened. */
  readonly commandTimeoutMs: number;
  readonly idle: boolean;
  readonly once: boolean;
  readonly start: StartPosition;
  readonly leaseTtlMs: number;
  readonly retry: RetryPolicy;
  /** With `once`: consecutive failures before the mailbox is given up. */
  readonly onceMaxAttempts: number;
  /** Recheck interval while paused for backlog. */
  readonly backlogCheckMs: number;
  /** While parked (`needs_reauth`, not `once`): how often the credentials are asked for again. */
  readonly reauthRecheckMs: number;
}

/** What a follower works with. */
export interface FollowerDeps {
  readonly ref: MailboxRef;
  readonly server: ImapServer;
  readonly credentials: CredentialsProvider;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly observer: ProducerObserver;
  readonly status: MailboxStatus;
  /** Dry run: receives each payload instead of Redis; nothing is written. */
  readonly dryRun?: (payload: EmailPayload) => void;
}

/** A batch of UIDs and what was fetched for them. */
interface FetchedBatchOf {
  readonly uids: readonly number[];
  readonly fetched: FetchedBatch;
}

/**
 * Most messages fetched from IMAP per round trip (at least one commit batch).
 * Bounds memory: at most two chunks of headers and capped text parts are held.
 * After an interrupted fetch the chunk shrinks (see {@link ChunkSizePolicy}).
 */
const FETCH_CHUNK_MESSAGES = 250;

/** Splits a fetched chunk into commit batches of `size` UIDs, in UID order. */
function commitSlices(chunk: FetchedBatchOf, size: number): FetchedBatchOf[] {
  const slices: FetchedBatchOf[] = [];
  let m = 0;
  for (let i = 0; i < chunk.uids.length; i += size) {
    const uids = chunk.uids.slice(i, i + size);
    const last = uids[uids.length - 1]!;
    const start = m;
    while (m < chunk.fetched.messages.length && chunk.fetched.messages[m]!.uid <= last) m++;
    // The chunk's download is counted once, with its first slice.
    const bytes = i === 0 ? chunk.fetched.bytes : 0;
    slices.push({ uids, fetched: { messages: chunk.fetched.messages.slice(start, m), bytes } });
  }
  return slices;
}

/** How a follower ended. */
export type FollowerOutcome = "caught_up" | "stopped" | "parked" | "failed";

/** Where the follower stands: a committed (or, in a dry run, remembered) position. */
interface Position {
  uidValidity: number;
  lastUid: number;
}

class LeaseLostError extends IngestError {
  constructor() {
    super("LEASE_LOST", "Another producer took over the mailbox lease", true);
  }
}

class LeaseBusyError extends IngestError {
  constructor(mailbox: string) {
    super(
      "LEASE_BUSY",
      `Another producer holds the lease of mailbox ${mailbox}; --once gave up waiting. ` +
        "Stop the other producer, or let it do the work.",
      false,
    );
  }
}

class CursorMovedError extends IngestError {
  constructor() {
    super(
      "CURSOR_MOVED",
      "The cursor was changed by someone else (e.g. `ingest state reset`)",
      true,
    );
  }
}

/** Runs one mailbox. */
export class MailboxFollower {
  readonly #deps: FollowerDeps;
  readonly #settings: FollowerSettings;
  readonly #log: Logger;
  #session: MailboxSession | undefined;
  #leaseLost = false;
  /** Dry-run position (nothing is committed). */
  #memory: Position | undefined;

  /** Fetch chunk size; kept across reconnects, so a connection that keeps dropping asks for less. */
  readonly #chunkSize: ChunkSizePolicy;
  /** The current connection committed something or finished a round (its failure then starts the backoff anew). */
  #progressed = false;

  constructor(deps: FollowerDeps, settings: FollowerSettings) {
    this.#deps = deps;
    this.#settings = settings;
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
  }

  /** Follows the mailbox until `signal` aborts, or until caught up with `once`. */
  async run(signal: AbortSignal): Promise<FollowerOutcome> {
    const { ref, redis, dryRun } = this.#deps;
    const lease = dryRun ? undefined : new MailboxLease(redis, ref, this.#settings.leaseTtlMs);
    let attempt = 0;
    try {
      while (!signal.aborted) {
        const work = new AbortController();
        const onAbort = () => work.abort(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        let renewal: ReturnType<typeof setInterval> | undefined;
        try {
          if (lease) {
            await this.#acquireLease(lease, signal);
            if (signal.aborted) break;
            renewal = this.#renewLease(lease, work);
          }
          this.#setState("connecting");
          this.#progressed = false;
          this.#session = await openMailboxSession({
            server: this.#deps.server,
            credentials: this.#deps.credentials,
            mailbox: ref.mailbox,
            logger: this.#log,
            onServerHeard: () => this.#notify((o) => o.serverHeard?.(ref)),
            commandTimeoutMs: this.#settings.commandTimeoutMs,
            // imapflow's own inactivity probe is only a backstop: it must not break an
            // IDLE that the NOOP check of every idleHeartbeatMs keeps honest.
            socketTimeoutMs: this.#settings.idleHeartbeatMs + 2 * this.#settings.commandTimeoutMs,
          });
          this.#setState("connected");
          this.#log.info("mailbox opened", {
            uidvalidity: this.#session.uidValidity,
            idle: this.#settings.idle && this.#session.supportsIdle,
            gmail: this.#session.gmail,
          });
          const outcome = await this.#follow(this.#session, work.signal);
          attempt = 0;
          if (outcome === "caught_up") return "caught_up";
          if (this.#leaseLost) this.#leaseLost = false; // back to standby
        } catch (error) {
          if (signal.aborted) break;
          if (error instanceof LeaseLostError || this.#leaseLost) {
            this.#leaseLost = false;
            this.#leaseChanged(false);
            this.#log.warn("lease lost to another producer: standing by");
            continue;
          }
          if (error instanceof LeaseBusyError) {
            this.#recordError(error);
            return "failed";
          }
          // A connection that finished a round or committed something before it failed made
          // progress: back off from the start again, and a connection that keeps dropping is
          // then no reason to give up.
          if (this.#progressed) attempt = 0;
          const decision = decideAfterFailure(error, attempt++, this.#settings.retry);
          this.#recordError(error);
          if (decision.action !== "retry") {
            clearInterval(renewal);
            if (decision.action === "stop" || !await this.#park(error, lease, signal)) {
              return decision.action === "stop" ? this.#stop(error) : "parked";
            }
            attempt = 0;
            continue;
          }
          if (this.#settings.once && attempt >= this.#settings.onceMaxAttempts) {
            this.#notify((o) => o.error?.(ref, error, undefined));
            this.#log.error("giving up on mailbox", {
              error: describeError(error),
              attempts: attempt,
            });
            return "failed";
          }
          this.#notify((o) => o.error?.(ref, error, decision.delayMs));
          this.#log.warn("mailbox failed: retrying", {
            error: describeError(error),
            kind: decision.kind,
            retry_in_ms: decision.delayMs,
          });
          this.#setState("disconnected");
          await sleep(decision.delayMs, signal).catch(() => {});
        } finally {
          clearInterval(renewal);
          signal.removeEventListener("abort", onAbort);
          const session = this.#session;
          this.#session = undefined;
          await session?.close();
        }
      }
      return "stopped";
    } finally {
      if (lease && this.#deps.status.leaseHeld) {
        await lease.release().catch(() => {});
        this.#leaseChanged(false);
      }
      if (!this.#deps.status.parked) this.#setState("stopped");
    }
  }

  /**
   * Parks the account (state `needs_reauth`): with `once` at once; otherwise
   * the lease is released and the follower waits until the credentials
   * change. Returns `true` to try again, `false` to end as `parked`.
   */
  async #park(
    error: unknown,
    lease: MailboxLease | undefined,
    signal: AbortSignal,
  ): Promise<boolean> {
    const { ref, status, credentials } = this.#deps;
    status.parked = true;
    this.#setState("needs_reauth");
    this.#notify((o) => o.error?.(ref, error, undefined));
    this.#log.error("account parked: the credentials were refused", {
      error: describeError(error),
    });
    if (this.#settings.once) return false;
    if (lease && status.leaseHeld) {
      await lease.release().catch(() => {});
      this.#leaseChanged(false);
    }
    const resumed = await waitForNewCredentials(credentials, {
      recheckMs: this.#settings.reauthRecheckMs,
      signal,
    });
    if (resumed) {
      status.parked = false;
      this.#log.info("new credentials found: trying again");
    }
    return resumed;
  }

  /** Ends the follower on a configuration problem: the same attempt would fail the same way. */
  #stop(error: unknown): FollowerOutcome {
    this.#notify((o) => o.error?.(this.#deps.ref, error, undefined));
    this.#log.error("mailbox stopped: configuration problem", { error: describeError(error) });
    return "failed";
  }

  /** Sync, wait for mail, sync again; returns when aborted or (with `once`) caught up. */
  async #follow(session: MailboxSession, signal: AbortSignal): Promise<"caught_up" | "stopped"> {
    const { idle, once, idleHeartbeatMs, pollIntervalMs, pingTimeoutMs, retry } = this.#settings;
    let position = await this.#prepare(session);
    let redisFailures = 0;
    while (!signal.aborted) {
      try {
        position = await this.#syncRound(session, position, signal);
        this.#progressed = true; // a whole round: this connection worked
        redisFailures = 0;
      } catch (error) {
        if (error instanceof CursorMovedError) {
          // A commit that did apply although its reply was lost (Redis outage), or an
          // `ingest state reset`: either way the stored cursor is the truth.
          this.#log.warn("cursor is not where this producer left it: re-reading it");
          position = await this.#prepare(session);
          continue;
        }
        // Redis is down but IMAP is fine: keep the session, wait, and retry the round.
        if (!(error instanceof RedisError) || session.closed) throw error;
        const decision = decideAfterFailure(error, redisFailures++, retry);
        // Capped lower than IMAP retries: a try is one cheap command, and once memory is
        // freed (or Redis is back) the round should resume within seconds.
        const delay = Math.min(
          decision.action === "retry" ? decision.delayMs : retry.capMs,
          REDIS_RETRY_CAP_MS,
        );
        if (once && redisFailures >= this.#settings.onceMaxAttempts) throw error;
        this.#recordError(error);
        this.#notify((o) => o.error?.(this.#deps.ref, error, delay));
        // Redis full and Redis down need different fixes: say which one it is.
        const failure = classifyRedisFailure(error);
        this.#log.warn(
          failure.kind === "oom"
            ? "Redis is out of memory: raise maxmemory or free memory; retrying the round"
            : `redis ${
              failure.kind === "unreachable" ? "unavailable" : "failed"
            }: retrying the round`,
          {
            error: describeError(error),
            redis_failure: failure.kind,
            ...(failure.fix ? { fix: failure.fix } : {}),
            retry_in_ms: delay,
          },
        );
        await sleep(delay, signal).catch(() => {});
        if (!signal.aborted) await session.ping(pingTimeoutMs);
        continue;
      }
      if (once) return "caught_up";
      if (signal.aborted) break;
      const idling = idle && session.supportsIdle;
      this.#setState(idling ? "idle" : "connected");
      const outcome = await session.waitForChange(
        idling ? idleHeartbeatMs : pollIntervalMs,
        idling,
        signal,
      );
      this.#setState("connected");
      if (outcome === "aborted") break;
      if (outcome === "closed") {
        throw new ImapError("IMAP_CLOSED", "The IMAP server closed the connection");
      }
      // Quiet for a whole heartbeat (or a poll is due): check the connection and refresh the view.
      if (outcome === "timeout") await session.ping(pingTimeoutMs);
    }
    return "stopped";
  }

  /**
   * Reads the cursor and reconciles it with the mailbox as opened: a first
   * sync starts per `--start`; a changed UIDVALIDITY resets it to 0 with a
   * `mailbox_reset` entry (the published index keeps re-emits out).
   */
  async #prepare(session: MailboxSession): Promise<Position> {
    const { ref, redis, dryRun } = this.#deps;
    const uidValidity = session.uidValidity;
    if (dryRun && this.#memory?.uidValidity === uidValidity) return this.#memory;
    for (let tries = 0;; tries++) {
      const [rawLastUid, rawValidity] = await viaRedis(
        "GET cursor",
        () => redis.mget(cursorKey(ref, "last_uid"), cursorKey(ref, "uidvalidity")),
      );
      const expected = {
        lastUid: rawLastUid == null ? null : Number(rawLastUid),
        uidValidity: rawValidity == null ? null : Number(rawValidity),
      };
      if (expected.uidValidity === uidValidity && expected.lastUid !== null) {
        return this.#moved({ uidValidity, lastUid: expected.lastUid });
      }
      let lastUid: number;
      let reset: MailboxResetPayload | undefined;
      if (expected.uidValidity === null) {
        lastUid = expected.lastUid ?? await this.#startUid(session);
        this.#log.info("starting mailbox", { start: this.#settings.start.kind, last_uid: lastUid });
      } else {
        lastUid = 0;
        reset = {
          schema_version: SCHEMA_VERSION,
          account: ref.account,
          mailbox: ref.mailbox,
          previous_uidvalidity: expected.uidValidity,
          uidvalidity: uidValidity,
          at: new Date().toISOString(),
        };
        this.#log.warn("UIDVALIDITY changed: resetting the cursor and re-syncing the mailbox", {
          previous_uidvalidity: expected.uidValidity,
          uidvalidity: uidValidity,
        });
      }
      if (dryRun) return this.#memory = { uidValidity, lastUid };
      const result = await viaRedis("commit", () =>
        commitBatch(redis, {
          stream: this.#settings.stream,
          ref,
          leaseToken: this.#leaseToken(),
          expected,
          uidValidity,
          lastUid,
          entries: [],
          reset,
        }));
      if (result.status === "lease_lost") throw new LeaseLostError();
      if (result.status === "ok") {
        if (reset) this.#notify((o) => o.mailboxReset?.(ref));
        return this.#moved({ uidValidity, lastUid });
      }
      if (tries > 5) throw new CursorMovedError();
    }
  }

  async #startUid(session: MailboxSession): Promise<number> {
    const start = this.#settings.start;
    if (start.kind === "all") return 0;
    if (start.kind === "since") {
      const uids = await session.uidsSince(start.date);
      if (uids.length > 0) return uids[0]! - 1;
    }
    return await session.highestUid();
  }

  /**
   * One round: every UID above the cursor, in batches, each committed
   * atomically. The next batch is fetched from IMAP while the current one is
   * committed to Redis (at most two batches are held), so neither side waits
   * for the other.
   */
  async #syncRound(
    session: MailboxSession,
    position: Position,
    signal: AbortSignal,
  ): Promise<Position> {
    const { ref } = this.#deps;
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    const batchSize = this.#settings.batchSize;
    try {
      const uids = await session.newUids(position.lastUid);
      const total = uids.length;
      if (total > 0) this.#notify((o) => o.progress?.(ref, 0, total));
      // IMAP is read in chunks of several commit batches: each FETCH is a round
      // trip, so fewer, larger ones keep the server streaming. Commits stay one
      // per --batch-size slice (the unit of atomicity and of the cursor).
      let committed = false;
      let done = 0;
      const chunks = fetchChunks(session, uids, {
        limits: this.#settings.limits,
        policy: this.#chunkSize,
        signal,
      });
      for await (const chunk of chunks) {
        for (const slice of commitSlices(chunk, batchSize)) {
          // Publishing is what grows the backlog, so the limit is checked before each commit.
          await this.#waitForBacklog(session, signal);
          if (signal.aborted) break;
          position = await this.#publishBatch(position, slice);
          committed = true;
          this.#progressed = true;
          done += slice.uids.length;
          this.#notify((o) => o.progress?.(ref, done, total));
        }
        if (signal.aborted) break;
      }
      // Nothing new: still record the successful poll (and check the lease).
      if (!committed && !signal.aborted) {
        position = await this.#commit(position, position.lastUid, []);
      }
      this.#deps.status.lastPollAt = new Date().toISOString();
      this.#notify((o) => o.polled?.(ref, elapsed(), "ok"));
      return position;
    } catch (error) {
      this.#notify((o) => o.polled?.(ref, elapsed(), "error"));
      throw error;
    }
  }

  /** Builds the payloads of a fetched batch and commits them (or prints them in a dry run). */
  async #publishBatch(position: Position, batch: FetchedBatchOf): Promise<Position> {
    const { ref, dryRun } = this.#deps;
    const { fetched } = batch;
    const context = {
      account: ref.account,
      mailbox: ref.mailbox,
      uidValidity: position.uidValidity,
      bodyTextChars: this.#settings.limits.bodyTextChars,
      bodyHtmlChars: this.#settings.limits.bodyHtmlChars,
    };
    const entries: CommitEntry[] = fetched.messages.map((m) => buildEmailPayload(m, context));
    const parseErrors = entries.filter((e) => e.payload.parse_error !== undefined).length;
    this.#notify((o) => o.bytesDownloaded?.(ref.account, fetched.bytes));
    const lastUid = batch.uids[batch.uids.length - 1]!;
    if (dryRun) {
      for (const entry of entries) dryRun(entry.payload);
      this.#deps.status.published += entries.length;
      return this.#memory = { uidValidity: position.uidValidity, lastUid };
    }
    const next = await this.#commit(position, lastUid, entries);
    for (let i = 0; i < parseErrors; i++) this.#notify((o) => o.parseError?.(ref));
    if (parseErrors > 0) {
      this.#log.warn("messages published with parse_error", { count: parseErrors });
    }
    this.#housekeeping(fetched.bytes);
    return next;
  }

  /** The atomic commit; throws on a lost lease or a cursor moved by someone else. */
  async #commit(position: Position, lastUid: number, entries: CommitEntry[]): Promise<Position> {
    const { ref, redis, dryRun, status } = this.#deps;
    if (dryRun) return position;
    const result = await viaRedis("commit", () =>
      commitBatch(redis, {
        stream: this.#settings.stream,
        ref,
        leaseToken: this.#leaseToken(),
        expected: position,
        uidValidity: position.uidValidity,
        lastUid,
        entries,
      }));
    if (result.status === "lease_lost") throw new LeaseLostError();
    if (result.status === "cursor_moved") throw new CursorMovedError();
    if (entries.length > 0) {
      status.published += result.published;
      status.skipped += result.skipped;
      this.#notify((o) => o.published?.(ref, result.published, result.skipped));
      this.#log.debug("batch committed", {
        published: result.published,
        skipped: result.skipped,
        last_uid: lastUid,
      });
    }
    return this.#moved({ uidValidity: position.uidValidity, lastUid }, result.total);
  }

  /**
   * Best-effort housekeeping after a commit, off the critical path: bandwidth
   * accounting and trimming run in the background, one after the other.
   */
  #housekeeping(bytes: number): void {
    const { ref, redis } = this.#deps;
    this.#chores = this.#chores.then(async () => {
      const key = bandwidthKey(ref.account, bandwidthHour(Date.now()));
      await redis.multi().incrby(key, bytes).expire(key, 25 * 3600).exec();
      await trimStream(redis, this.#settings.stream, { maxLength: this.#settings.maxStreamLength });
    }).catch((error) => {
      this.#log.debug("housekeeping after commit failed", { error: describeError(error) });
    });
  }

  #chores: Promise<void> = Promise.resolve();

  /** Pauses while the workers' backlog is above the limit; pings IMAP meanwhile. */
  async #waitForBacklog(session: MailboxSession, signal: AbortSignal): Promise<void> {
    const { ref, redis, dryRun, status } = this.#deps;
    if (dryRun) return;
    // The backlog grows only by what this producer publishes: skip the check while even
    // the worst case since the last one stays well below the limit.
    const limit = this.#settings.backlogLimit;
    if (this.#backlog !== undefined && this.#backlog + status.published <= limit * 0.8) return;
    let lastPing = Date.now();
    while (!signal.aborted) {
      const backlog = await viaRedis(
        "XINFO GROUPS",
        () => streamBacklog(redis, this.#settings.stream),
      );
      this.#backlog = backlog - status.published;
      if (backlog <= limit) break;
      if (!status.backlogPaused) {
        status.backlogPaused = true;
        this.#notify((o) => o.backlogPaused?.(ref, true));
        this.#log.warn(
          "stream backlog above STREAM_BACKLOG_LIMIT: pausing fetch until workers catch up",
          {
            backlog,
            limit: this.#settings.backlogLimit,
          },
        );
      }
      await sleep(this.#settings.backlogCheckMs, signal).catch(() => {});
      if (Date.now() - lastPing > 60_000 && !signal.aborted) {
        await session.ping(this.#settings.pingTimeoutMs);
        lastPing = Date.now();
      }
    }
    if (status.backlogPaused) {
      status.backlogPaused = false;
      this.#notify((o) => o.backlogPaused?.(ref, false));
      this.#log.info("stream backlog below the limit: fetching again");
    }
  }

  /** Backlog at the last check, minus what this process had published by then. */
  #backlog: number | undefined;

  /** Waits until this process holds the lease (standby while another producer does). */
  async #acquireLease(lease: MailboxLease, signal: AbortSignal): Promise<void> {
    const pollMs = Math.min(1_000, Math.max(100, Math.floor(lease.ttlMs / 10)));
    const giveUpAt = Date.now() + lease.ttlMs * 1.5;
    let announced = false;
    while (!signal.aborted) {
      if (await viaRedis("lease", () => lease.acquire())) {
        this.#leaseChanged(true);
        this.#log.info("lease acquired", { ttl_ms: lease.ttlMs });
        return;
      }
      if (!announced) {
        announced = true;
        this.#setState("standby");
        this.#log.info("another producer holds the mailbox lease: standing by");
      }
      if (this.#settings.once && Date.now() > giveUpAt) throw new LeaseBusyError(lease.ref.mailbox);
      await sleep(pollMs, signal).catch(() => {});
    }
  }

  /** Renews the lease every third of its TTL; a lost lease aborts `work`. */
  #renewLease(lease: MailboxLease, work: AbortController): ReturnType<typeof setInterval> {
    this.#token = lease.token;
    return setInterval(() => {
      lease.acquire().then((held) => {
        if (held || work.signal.aborted) return;
        this.#leaseLost = true;
        this.#leaseChanged(false);
        work.abort(new LeaseLostError());
      }).catch((error) => {
        // Redis is unreachable: the commit's fencing check keeps this safe meanwhile.
        this.#log.debug("lease renewal failed", { error: describeError(error) });
      });
    }, Math.floor(lease.ttlMs / 3));
  }

  #token = "";

  #leaseToken(): string {
    return this.#token;
  }

  #leaseChanged(held: boolean): void {
    if (this.#deps.status.leaseHeld === held) return;
    this.#deps.status.leaseHeld = held;
    this.#notify((o) => o.leaseHeld?.(this.#deps.ref, held));
  }

  /** Records the committed position; `total` is total_emails when the commit returned it. */
  #moved(position: Position, total?: number): Position {
    const { status, ref } = this.#deps;
    const previous = status.cursor;
    status.cursor = { lastUid: position.lastUid, uidValidity: position.uidValidity };
    if (total !== undefined) this.#total = total;
    if (previous?.lastUid !== position.lastUid || previous?.uidValidity !== position.uidValidity) {
      const cursor = { ...status.cursor, total: this.#total };
      this.#notify((o) => o.cursor?.(ref, cursor));
    }
    return position;
  }

  #total = 0;

  #setState(state: FollowerState): void {
    const { status, ref } = this.#deps;
    if (status.state === state) return;
    status.state = state;
    if (state !== "standby" && state !== "stopped") {
      this.#notify((o) => o.connectionState?.(ref, state));
    }
  }

  #recordError(error: unknown): void {
    this.#deps.status.lastError = { message: describeError(error), at: new Date().toISOString() };
  }

  /** Calls an observer hook; a failing hook is logged, never allowed to stop ingestion. */
  #notify(call: (observer: ProducerObserver) => void): void {
    try {
      call(this.#deps.observer);
    } catch (error) {
      this.#log.debug("observer hook failed", { error: describeError(error) });
    }
  }
}

/**
 * Runs a Redis operation, turning its failure into a retryable
 * {@link RedisError} that names what went wrong (an OOM as an OOM, with the fix).
 */
async function viaRedis<T>(doing: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw redisFailureError(doing, error);
  }
}
