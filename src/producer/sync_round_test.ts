import assert from "node:assert/strict";
import { ImapError } from "../errors.ts";
import type { FetchedBatch, FetchLimits } from "../imap/mailbox_session.ts";
import type { FetchedMessage } from "../imap/message_payload.ts";
import { silentLogger } from "../log/logger.ts";
import { ChunkSizePolicy } from "./chunk_size.ts";
import { MailboxReport } from "./mailbox_report.ts";
import { initialStatus } from "./mailbox_status.ts";
import type { Position, PublishBatch, Publisher } from "./publisher.ts";
import { commitSlices, type RoundSource, startPoint, syncRound } from "./sync_round.ts";

const LIMITS: FetchLimits = { bodyTextChars: 100, bodyHtmlChars: 50, maxMessageBytes: 10_000 };
const ref = { account: "me@test", mailbox: "INBOX" };
const message = (uid: number): FetchedMessage => ({ uid, size: 10, flags: [], gmail: null });

/** A mailbox with `uids`; a fetch of a chunk containing `cutAt` breaks off just before it. */
function mailbox(uids: number[], cutAt?: number): RoundSource & { fetched: number[][] } {
  const fetched: number[][] = [];
  return {
    fetched,
    newUids: (after) => Promise.resolve(uids.filter((uid) => uid > after)),
    fetchBatch(chunk): Promise<FetchedBatch> {
      fetched.push([...chunk]);
      const whole = cutAt !== undefined && chunk.includes(cutAt)
        ? chunk.filter((uid) => uid < cutAt)
        : [...chunk];
      const batch = { messages: whole.map(message), bytes: 100 * chunk.length };
      if (whole.length === chunk.length) return Promise.resolve(batch);
      const error = new ImapError("IMAP_CONNECTION", "dropped mid-FETCH");
      return Promise.resolve({ ...batch, interrupted: { error, throughUid: whole.at(-1) } });
    },
  };
}

/** Records what it was asked to do, as a publisher would receive it. */
function recorder(): Publisher & { calls: string[]; batches: PublishBatch[] } {
  const calls: string[] = [];
  const batches: PublishBatch[] = [];
  return {
    calls,
    batches,
    lease: undefined,
    prepare: () => Promise.reject(new Error("not used")),
    waitForRoom: () => {
      calls.push("room");
      return Promise.resolve();
    },
    publish(position: Position, batch: PublishBatch, bytes: number) {
      calls.push(`publish ${batch.lastUid} (${bytes} B)`);
      batches.push(batch);
      return Promise.resolve({ uidValidity: position.uidValidity, lastUid: batch.lastUid });
    },
    recordPoll(position: Position) {
      calls.push("poll");
      return Promise.resolve(position);
    },
  };
}

function round(publisher: Publisher, polled: string[] = []) {
  const report = new MailboxReport({
    ref,
    status: initialStatus(ref.account, ref.mailbox),
    observer: { polled: (_ref, _s, result) => polled.push(result) },
    logger: silentLogger,
  });
  let published = 0;
  const options = {
    publisher,
    report,
    batchSize: 3,
    limits: LIMITS,
    policy: new ChunkSizePolicy({ max: 5 }),
    keepAlive: () => Promise.resolve(),
    onPublished: () => void published++,
    signal: new AbortController().signal,
  };
  return { options, report, published: () => published };
}

Deno.test("commitSlices() splits a chunk into batches of whole UIDs and counts its bytes once", () => {
  const chunk = {
    uids: [1, 2, 3, 4, 5],
    fetched: { messages: [1, 2, 4, 5].map(message), bytes: 500 },
  };
  const slices = commitSlices(chunk, 2);
  assert.deepEqual(slices.map((s) => s.uids), [[1, 2], [3, 4], [5]]);
  // UID 3 was expunged meanwhile: its batch holds only UID 4, and still moves the cursor past 3.
  assert.deepEqual(slices.map((s) => s.fetched.messages.map((m) => m.uid)), [[1, 2], [4], [5]]);
  assert.deepEqual(slices.map((s) => s.fetched.bytes), [500, 0, 0]);
});

Deno.test("syncRound() publishes every new UID in batches, asking for room before each", async () => {
  const publisher = recorder();
  const polled: string[] = [];
  const { options, report, published } = round(publisher, polled);
  const source = mailbox([3, 4, 5, 6, 7, 8, 9, 10]);
  const reached = await syncRound(source, { uidValidity: 9, lastUid: 3 }, options);
  assert.deepEqual(reached, { uidValidity: 9, lastUid: 10 });
  assert.deepEqual(source.fetched, [[4, 5, 6, 7, 8], [9, 10]]);
  assert.deepEqual(publisher.calls, [
    "room",
    "publish 6 (500 B)",
    "room",
    "publish 8 (0 B)",
    "room",
    "publish 10 (200 B)",
  ]);
  const payloads = publisher.batches.flatMap((b) => b.entries.map((e) => e.payload));
  assert.deepEqual(payloads.map((p) => p.uid), [4, 5, 6, 7, 8, 9, 10]);
  assert.ok(payloads.every((p) => p.uidvalidity === 9 && p.account === ref.account));
  assert.equal(published(), 3);
  assert.deepEqual(polled, ["ok"]);
  assert.notEqual(report.status.lastPollAt, null);
});

Deno.test("syncRound() with nothing new records the poll instead of publishing", async () => {
  const publisher = recorder();
  const { options, report } = round(publisher);
  const position = { uidValidity: 9, lastUid: 10 };
  assert.deepEqual(await syncRound(mailbox([9, 10]), position, options), position);
  assert.deepEqual(publisher.calls, ["poll"]);
  assert.notEqual(report.status.lastPollAt, null);
});

Deno.test("syncRound() publishes what arrived whole before a dropped fetch, then fails the round", async () => {
  const publisher = recorder();
  const polled: string[] = [];
  const { options, report } = round(publisher, polled);
  const source = mailbox([1, 2, 3, 4, 5, 6, 7], 6);
  await assert.rejects(
    syncRound(source, { uidValidity: 9, lastUid: 0 }, options),
    (error: unknown) => error instanceof ImapError && /mid-FETCH/.test(error.message),
  );
  // UIDs 1-5 arrived whole: their batches were published before the error surfaced.
  assert.deepEqual(publisher.batches.map((b) => b.lastUid), [3, 5]);
  // The interrupted fetch shrinks the next chunk (kept across reconnects by the caller).
  assert.ok(options.policy.size < 5);
  assert.deepEqual(polled, ["error"]);
  assert.equal(report.status.lastPollAt, null);
});

Deno.test("startPoint() resolves --start against the mailbox only when asked", async () => {
  let asked = 0;
  const session = {
    uidsSince: (date: Date) => {
      asked++;
      return Promise.resolve(date.getUTCFullYear() === 2026 ? [40, 41] : []);
    },
    highestUid: () => {
      asked++;
      return Promise.resolve(99);
    },
  };
  const latest = startPoint(session, { kind: "latest" });
  assert.equal(asked, 0);
  assert.equal(latest.kind, "latest");
  assert.equal(await latest.uid(), 99);
  assert.equal(await startPoint(session, { kind: "all" }).uid(), 0);
  assert.equal(
    await startPoint(session, { kind: "since", date: new Date("2026-01-01") }).uid(),
    39,
  );
  // No message since the date: start after the newest one.
  assert.equal(
    await startPoint(session, { kind: "since", date: new Date("2030-01-01") }).uid(),
    99,
  );
});
