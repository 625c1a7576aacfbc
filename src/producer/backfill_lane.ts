/**
 * The history lane of one mailbox. When a mailbox without state is first
 * followed (and not with `--once`), {@link BackfillLane.startPoint} records a
 * backfill of (floor, UIDNEXT-1] (floor: what `--start` resolves to) and hands
 * the live path UIDNEXT-1 as its start, so new mail is followed at once. The
 * lane then fetches the history upwards on a connection of its own, one
 * chunk per turn of the process-wide {@link BackfillScheduler}, each batch
 * one atomic commit of `backfill_commit.ts` that moves the backfill's own
 * cursor. A crash resumes from that cursor; the published index keeps a
 * message out that both paths saw. The lane pauses while the account's
 * daily download budget is used up, backs off on its own after `[THROTTLED]`
 * or a dropped connection, and never holds up the live path.
 *
 * @module
 */

import { describeError } from "../errors.ts";
import type { FetchLimits, MailboxSession } from "../imap/mailbox_session.ts";
import type { Logger } from "../log/logger.ts";
import type { RedisClient } from "../redis/client.ts";
import { sleep } from "../retry/backoff.ts";
import { type Backfill, readBackfill } from "../state/backfill.ts";
import { abandonBackfill, commitBackfillBatch, planBackfill } from "./backfill_commit.ts";
import type { BackfillScheduler } from "./backfill_scheduler.ts";
import { fetchChunks, type FetchedChunk } from "./chunk_fetcher.ts";
import { ChunkSizePolicy } from "./chunk_size.ts";
import type { DownloadBudget } from "./download_budget.ts";
import type { RetryPolicy } from "./failure_policy.ts";
import { decideLaneFailure } from "./backfill_failure.ts";
import {
  BackfillPausedError,
  CursorMovedError,
  LeaseLostError,
  viaRedis,
} from "./follower_errors.ts";
import type { MailboxReport } from "./mailbox_report.ts";
import type { BackfillLaneStatus } from "./mailbox_status.ts";
import type { StartPoint } from "./publisher.ts";
import { buildEntries, commitSlices } from "./sync_round.ts";
import type { CommitEntry } from "./commit.ts";

/** What the lane needs of the mailbox's publisher (the `RedisPublisher`). */
export interface BackfillHost {
  /** The mailbox lease: its token fences the lane's commits. */
  readonly lease: { readonly token: string };
  /** Waits while the workers' backlog is above the limit. */
  waitForRoom(keepAlive: () => Promise<void>, signal: AbortSignal): Promise<void>;
  /** Counts downloaded bytes, reports parse errors, trims the stream. */
  afterCommit(entries: readonly CommitEntry[], bytes: number): void;
}

/** What a lane works with. */
export interface BackfillLaneOptions {
  readonly redis: RedisClient;
  /** The mailbox's publisher: its lease fences the lane, its backlog check and housekeeping serve it. */
  readonly publisher: BackfillHost;
  readonly stream: string;
  readonly report: MailboxReport;
  readonly logger: Logger;
  readonly scheduler: BackfillScheduler;
  /** The account's one history connection: a lane holds its turn while its session is open. */
  readonly historyConnection: BackfillScheduler;
  readonly budget: DownloadBudget;
  /** Plan a backfill for a mailbox without state; `false` (`--once`): the live path takes it all. */
  readonly planNew: boolean;
  readonly batchSize: number;
  readonly limits: FetchLimits;
  readonly retry: RetryPolicy;
  readonly pingTimeoutMs: number;
}

/** One run of the lane, tied to one connection of the live path. */
export interface BackfillRun {
  /** The UIDVALIDITY the live path opened. */
  readonly uidValidity: number;
  /** Opens the lane's own connection to the mailbox. */
  readonly open: () => Promise<MailboxSession>;
  /** `--once`: failures are the caller's to decide (the lane throws instead of retrying). */
  readonly once: boolean;
  readonly signal: AbortSignal;
}

/** Most messages per history fetch; at most two chunks are held. */
const CHUNK_MESSAGES = 250;

/** See the module documentation. */
export class BackfillLane {
  readonly #o: BackfillLaneOptions;
  readonly #log: Logger;
  readonly #lane: string;
  readonly #policy: ChunkSizePolicy;
  /** The current connection committed something (its failure then starts the backoff anew). */
  #progressed = false;

  constructor(options: BackfillLaneOptions) {
    this.#o = options;
    this.#log = options.logger.child({ lane: "backfill" });
    const { ref } = options.report;
    this.#lane = `${ref.account}\n${ref.mailbox}`;
    this.#policy = new ChunkSizePolicy({ max: Math.max(options.batchSize, CHUNK_MESSAGES) });
  }

  /** Runs live work ahead of every backfill in the process. */
  live<T>(work: () => Promise<T>): Promise<T> {
    return this.#o.scheduler.live(work);
  }

  /** The live path's start for a mailbox without state: UIDNEXT-1 once a backfill covers the rest. */
  startPoint(
    base: StartPoint,
    session: Pick<MailboxSession, "uidValidity" | "uidNextAtOpen">,
  ): StartPoint {
    if (!this.#o.planNew) return base;
    const { redis, publisher, report } = this.#o;
    return {
      kind: base.kind,
      uid: async () => {
        const floorUid = await base.uid();
        const plan = await viaRedis("backfill plan", () =>
          planBackfill(redis, {
            ref: report.ref,
            leaseToken: publisher.lease.token,
            uidValidity: session.uidValidity,
            floorUid,
            snapshotUid: Math.max(0, session.uidNextAtOpen - 1),
          }));
        if (plan.status === "lease_lost") throw new LeaseLostError();
        if (plan.status === "none") return floorUid;
        this.#log.info("history backfill planned", {
          floor_uid: floorUid,
          snapshot_uid: plan.snapshotUid,
        });
        return plan.snapshotUid;
      },
    };
  }

  /** Follows the mailbox's pending backfill to its end (or until aborted); none pending: returns. */
  async run(run: BackfillRun): Promise<void> {
    let attempt = 0;
    while (!run.signal.aborted) {
      try {
        if (await this.#step(run) === "finished") return;
        attempt = 0;
      } catch (error) {
        if (run.signal.aborted) return;
        if (this.#progressed) attempt = 0;
        this.#progressed = false;
        const { once } = run;
        const decision = decideLaneFailure(error, attempt++, { once, retry: this.#o.retry });
        if (decision.action === "again") continue;
        if (decision.action === "throw") throw error;
        this.#o.report.recordError(error);
        if (decision.action === "end") {
          this.#log.warn("history backfill stopped", { error: describeError(error) });
          return;
        }
        const lane = this.#o.report.status.backfill;
        if (lane) lane.state = "retrying";
        // Gmail throttles the account: every lane of it holds, other accounts go on.
        if (decision.kind === "throttled") this.#o.budget.hold(decision.delayMs);
        this.#log.warn("history backfill failed: retrying", {
          error: describeError(error),
          kind: decision.kind,
          retry_in_ms: decision.delayMs,
        });
        await sleep(decision.delayMs, run.signal).catch(() => {});
      }
    }
  }

  /** One connection's worth of backfill, or the wait of a used-up budget. */
  async #step(run: BackfillRun): Promise<"finished" | "again"> {
    const { redis, report } = this.#o;
    const record = await viaRedis("read backfill", () => readBackfill(redis, report.ref));
    report.status.backfill = record && laneStatus(record.state, record);
    if (record === null || record.state === "done") return "finished";
    if (record.uidValidity !== run.uidValidity) return await this.#abandon(record);
    if (await this.#waitOutBudget(record, run.signal)) return "again";
    const releaseConnection = await this.#o.historyConnection.turn(this.#lane, run.signal);
    try {
      const session = await run.open();
      try {
        // The mailbox may have been recreated since the live path opened it.
        if (session.uidValidity !== record.uidValidity) return await this.#abandon(record);
        await this.#fetchHistory(session, record, run.signal);
      } catch (error) {
        if (!(error instanceof BackfillPausedError)) throw error;
      } finally {
        await session.close();
      }
    } finally {
      releaseConnection();
    }
    return "again";
  }

  /** Drops a backfill of an old UIDVALIDITY: the live path re-syncs the new one from 0. */
  async #abandon(record: Backfill): Promise<"finished"> {
    const { redis, report, publisher } = this.#o;
    const token = publisher.lease.token;
    await viaRedis(
      "abandon backfill",
      () => abandonBackfill(redis, report.ref, token, record.uidValidity),
    );
    report.status.backfill = null;
    report.notify((o) => o.backfillEnded?.(report.ref, "dropped"));
    this.#log.warn("UIDVALIDITY changed: history backfill dropped, the live path re-syncs");
    return "finished";
  }

  /** While the account is throttled or its budget used up: waits, and says so (`true`). */
  async #waitOutBudget(record: Backfill, signal: AbortSignal): Promise<boolean> {
    const { report, budget } = this.#o;
    const heldMs = budget.heldMs();
    if (heldMs > 0) {
      report.status.backfill = laneStatus("throttled", record);
      this.#log.info("account throttled: history backfill holds", { resume_in_ms: heldMs });
      await sleep(heldMs, signal).catch(() => {});
      return true;
    }
    const pauseMs = await viaRedis("read bandwidth", () => budget.pauseMs());
    if (pauseMs === 0) return false;
    report.status.backfill = laneStatus("paused", record);
    this.#log.warn("daily download budget used up: history backfill paused, live mail goes on", {
      budget_bytes: budget.dailyBytes,
      resume_in_ms: pauseMs,
    });
    await sleep(pauseMs, signal).catch(() => {});
    return true;
  }

  /** Every UID in (done, snapshot], in chunks and commit batches; then marks the backfill done. */
  async #fetchHistory(session: MailboxSession, record: Backfill, signal: AbortSignal) {
    const { publisher, limits, batchSize, report } = this.#o;
    const uids = (await session.newUids(record.doneUid)).filter((uid) => uid <= record.snapshotUid);
    this.#log.info("history backfill fetching", {
      remaining: uids.length,
      from_uid: record.doneUid,
    });
    const source = {
      fetchBatch: (chunk: readonly number[], limits: FetchLimits) =>
        this.#fetchInTurn(session, chunk, limits, signal),
    };
    const keepAlive = () => session.ping(this.#o.pingTimeoutMs);
    let doneUid = record.doneUid;
    let done = 0;
    const progress = () =>
      report.notify((o) => o.backfillProgress?.(report.ref, done, uids.length));
    if (uids.length > 0) progress();
    const chunks = fetchChunks(source, uids, { limits, policy: this.#policy, signal });
    for await (const chunk of chunks) {
      for (const slice of commitSlices(chunk, batchSize)) {
        await publisher.waitForRoom(keepAlive, signal);
        if (signal.aborted) return;
        doneUid = await this.#commit(record, doneUid, slice);
        done += slice.uids.length;
        progress();
      }
      if (signal.aborted) return;
    }
    // Every UID up to the snapshot is in (the missing ones were expunged): the backfill is done.
    const none = { uids: [record.snapshotUid], fetched: { messages: [], bytes: 0 } };
    if (doneUid < record.snapshotUid) await this.#commit(record, doneUid, none);
    report.notify((o) => o.backfillEnded?.(report.ref, "done"));
    this.#log.info("history backfill done", { snapshot_uid: record.snapshotUid });
  }

  /** A chunk of history, fetched in the lane's turn and only while the budget allows. */
  async #fetchInTurn(
    session: MailboxSession,
    uids: readonly number[],
    limits: FetchLimits,
    signal: AbortSignal,
  ) {
    const { budget, scheduler } = this.#o;
    if (budget.heldMs() > 0 || await budget.pauseMs() > 0) {
      throw new BackfillPausedError(budget.dailyBytes);
    }
    const release = await scheduler.turn(this.#lane, signal);
    try {
      return await session.fetchBatch(uids, limits);
    } finally {
      release();
    }
  }

  /** Commits one batch of history atomically; returns the backfill's new cursor. */
  async #commit(record: Backfill, expectedDoneUid: number, slice: FetchedChunk): Promise<number> {
    const { redis, report, publisher, limits, stream } = this.#o;
    const { ref } = report;
    const entries = await buildEntries(slice.fetched, record.uidValidity, report, limits);
    const doneUid = slice.uids[slice.uids.length - 1]!;
    const result = await viaRedis("backfill commit", () =>
      commitBackfillBatch(redis, {
        stream,
        ref,
        leaseToken: publisher.lease.token,
        uidValidity: record.uidValidity,
        expectedDoneUid,
        doneUid,
        entries,
      }));
    if (result.status === "lease_lost") throw new LeaseLostError();
    if (result.status === "cursor_moved") throw new CursorMovedError();
    this.#progressed = true;
    report.status.backfill = laneStatus(result.done ? "done" : "running", record, doneUid);
    report.status.published += result.published;
    report.status.skipped += result.skipped;
    report.notify((o) => o.published?.(ref, result.published, result.skipped));
    report.notify((o) => o.bytesDownloaded?.(ref.account, slice.fetched.bytes));
    publisher.afterCommit(entries, slice.fetched.bytes);
    return doneUid;
  }
}

/** A lane started beside the live path: `done` settles when it ends, `stop` aborts it and waits. */
export interface HistoryRun {
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/** Starts `lane` (when there is one) for `run`, aborted with `run.signal` or `stop()`. */
export function startHistory(lane: BackfillLane | undefined, run: BackfillRun): HistoryRun {
  if (lane === undefined) return { done: Promise.resolve(), stop: () => Promise.resolve() };
  const control = new AbortController();
  const onAbort = () => control.abort(run.signal.reason);
  run.signal.addEventListener("abort", onAbort, { once: true });
  const done = lane.run({ ...run, signal: control.signal });
  const settled = done.catch(() => {}); // `done` is awaited with --once only
  return {
    done,
    stop: async () => {
      control.abort();
      run.signal.removeEventListener("abort", onAbort);
      await settled;
    },
  };
}

/** The lane's status for `/status`. */
function laneStatus(
  state: BackfillLaneStatus["state"],
  record: Backfill,
  doneUid = record.doneUid,
): BackfillLaneStatus {
  return { state, doneUid, snapshotUid: record.snapshotUid };
}
