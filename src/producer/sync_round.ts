/**
 * One sync round of a mailbox: every UID above the position, fetched in
 * chunks through {@link fetchChunks} (sized by a {@link ChunkSizePolicy} that
 * shrinks after interrupted fetches), split into commit batches of
 * `batchSize` UIDs, turned into payloads and handed to the publisher. The
 * next chunk is fetched from IMAP while the current one is published, so
 * neither side waits for the other (at most two chunks are held).
 *
 * @module
 */

import type { ChangeSource } from "../imap/change_feed.ts";
import type { FetchedBatch, FetchLimits } from "../imap/mailbox_session.ts";
import { buildEmailPayloads } from "../imap/message_payload.ts";
import { type ChunkSource, fetchChunks, type FetchedChunk } from "./chunk_fetcher.ts";
import type { ChunkSizePolicy } from "./chunk_size.ts";
import { changeRound } from "./change_round.ts";
import type { CommitEntry } from "./commit.ts";
import type { MailboxReport } from "./mailbox_report.ts";
import type { Position, Publisher, StartPoint } from "./publisher.ts";
import type { StartPosition } from "./start_position.ts";

/** What a round reads from IMAP (a `MailboxSession` in production). */
export interface RoundSource extends ChunkSource {
  /** UIDs above `afterUid`, ascending. */
  newUids(afterUid: number): Promise<number[]>;
}

/** What a round works with. */
export interface SyncRoundOptions {
  readonly publisher: Publisher;
  readonly report: MailboxReport;
  /** UIDs per commit (`--batch-size`): the unit of atomicity and of the cursor. */
  readonly batchSize: number;
  readonly limits: FetchLimits;
  /** Kept by the caller across rounds and reconnects, so a dropping connection asks for less. */
  readonly policy: ChunkSizePolicy;
  /** With `--events updated|deleted`: where a change round after the new mail reads changes. */
  readonly changes?: ChangeSource;
  /** Pings IMAP while the publisher waits for room. */
  readonly keepAlive: () => Promise<void>;
  /** Called after each published batch (progress for the backoff). */
  readonly onPublished: () => void;
  readonly signal: AbortSignal;
}

/** Splits a fetched chunk into commit batches of `size` UIDs, in UID order. */
export function commitSlices(chunk: FetchedChunk, size: number): FetchedChunk[] {
  const slices: FetchedChunk[] = [];
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

/** The payloads of a fetched batch. */
export function buildEntries(
  fetched: FetchedBatch,
  uidValidity: number,
  report: MailboxReport,
  limits: FetchLimits,
): Promise<CommitEntry[]> {
  const context = {
    account: report.ref.account,
    mailbox: report.ref.mailbox,
    uidValidity,
    bodyTextChars: limits.bodyTextChars,
    bodyHtmlChars: limits.bodyHtmlChars,
  };
  return buildEmailPayloads(fetched.messages, context);
}

/** `--start` against the open mailbox. */
export function startPoint(
  session: { uidsSince(date: Date): Promise<number[]>; highestUid(): Promise<number> },
  start: StartPosition,
): StartPoint {
  return {
    kind: start.kind,
    uid: async () => {
      if (start.kind === "all") return 0;
      if (start.kind === "since") {
        const uids = await session.uidsSince(start.date);
        if (uids.length > 0) return uids[0]! - 1;
      }
      return await session.highestUid();
    },
  };
}

/** Runs one round from `position`; returns the position reached. See the module. */
export async function syncRound(
  source: RoundSource,
  position: Position,
  options: SyncRoundOptions,
): Promise<Position> {
  const { report, publisher, signal } = options;
  const { ref } = report;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  try {
    const uids = await source.newUids(position.lastUid);
    const total = uids.length;
    if (total > 0) report.notify((o) => o.progress?.(ref, 0, total));
    // IMAP is read in chunks of several commit batches: each FETCH is a round
    // trip, so fewer, larger ones keep the server streaming.
    let committed = false;
    let done = 0;
    const chunks = fetchChunks(source, uids, {
      limits: options.limits,
      policy: options.policy,
      signal,
    });
    for await (const chunk of chunks) {
      for (const slice of commitSlices(chunk, options.batchSize)) {
        // Publishing is what grows the backlog, so the limit is checked before each batch.
        await publisher.waitForRoom(options.keepAlive, signal);
        if (signal.aborted) break;
        position = await publishSlice(position, slice, options);
        committed = true;
        options.onPublished();
        done += slice.uids.length;
        report.notify((o) => o.progress?.(ref, done, total));
      }
      if (signal.aborted) break;
    }
    // Nothing new: still record the successful poll (and check the lease).
    if (!committed && !signal.aborted) position = await publisher.recordPoll(position);
    if (options.changes && publisher.changes && !signal.aborted) {
      position = await changeRound(options.changes, position, publisher.changes, report);
    }
    report.status.lastPollAt = new Date().toISOString();
    report.notify((o) => o.polled?.(ref, elapsed(), "ok"));
    return position;
  } catch (error) {
    report.notify((o) => o.polled?.(ref, elapsed(), "error"));
    throw error;
  }
}

/** Builds the payloads of one commit batch and publishes them. */
async function publishSlice(
  position: Position,
  slice: FetchedChunk,
  options: SyncRoundOptions,
): Promise<Position> {
  const { report, limits } = options;
  const { fetched } = slice;
  const entries = await buildEntries(fetched, position.uidValidity, report, limits);
  report.notify((o) => o.bytesDownloaded?.(report.ref.account, fetched.bytes));
  const lastUid = slice.uids[slice.uids.length - 1]!;
  return options.publisher.publish(position, { lastUid, entries }, fetched.bytes);
}
