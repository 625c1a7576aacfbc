/**
 * Reads a sync round's UIDs from IMAP in chunks, one chunk ahead: the next
 * chunk is fetched while the caller commits the current one. Sized by a
 * {@link ChunkSizePolicy} that shrinks after an interrupted fetch.
 *
 * A fetch that breaks off yields what arrived whole (a prefix of the chunk's
 * UIDs, possibly empty) and then throws its error, so the caller commits the
 * prefix before it reconnects. A fetch started ahead is always settled into a
 * value: when the caller stops early (an error, an abort) its failure has
 * nobody to report to and must not become an unhandled rejection.
 *
 * @module
 */

import type { FetchedBatch, FetchLimits } from "../imap/mailbox_session.ts";
import type { ChunkSizePolicy } from "./chunk_size.ts";

/** What fetches a chunk (a {@link MailboxSession} in production). */
export interface ChunkSource {
  fetchBatch(uids: readonly number[], limits: FetchLimits): Promise<FetchedBatch>;
}

/** A fetched chunk: `uids` are the UIDs it covers (all of them, or the whole prefix). */
export interface FetchedChunk {
  readonly uids: readonly number[];
  readonly fetched: FetchedBatch;
}

/** Options of {@link fetchChunks}. */
export interface FetchChunksOptions {
  readonly limits: FetchLimits;
  /** Chooses each chunk's size and learns from each fetch; kept across rounds by the caller. */
  readonly policy: ChunkSizePolicy;
  /** Stops fetching further chunks (the one in flight is still yielded). */
  readonly signal: AbortSignal;
}

type Settled = { ok: true; batch: FetchedBatch } | { ok: false; error: unknown };

/** Yields the chunks of `uids` in order; see the module documentation. */
export async function* fetchChunks(
  source: ChunkSource,
  uids: readonly number[],
  options: FetchChunksOptions,
): AsyncGenerator<FetchedChunk, void, undefined> {
  const { policy, limits, signal } = options;
  const start = (from: number) => {
    const chunk = uids.slice(from, from + policy.size);
    const result: Promise<Settled> = source.fetchBatch(chunk, limits).then(
      (batch) => ({ ok: true, batch }),
      (error) => ({ ok: false, error }),
    );
    return { from, chunk, result };
  };
  let next = uids.length > 0 && !signal.aborted ? start(0) : undefined;
  while (next !== undefined) {
    const { from, chunk, result } = next;
    next = undefined;
    const settled = await result;
    if (!settled.ok) {
      policy.failed(chunk.length);
      throw settled.error;
    }
    const { batch } = settled;
    if (batch.interrupted) {
      policy.failed(chunk.length);
      const through = batch.interrupted.throughUid;
      const prefix = through === undefined ? [] : chunk.filter((uid) => uid <= through);
      if (prefix.length > 0) yield { uids: prefix, fetched: batch };
      throw batch.interrupted.error;
    }
    policy.succeeded();
    const end = from + chunk.length;
    if (end < uids.length && !signal.aborted) next = start(end);
    yield { uids: chunk, fetched: batch };
  }
}
