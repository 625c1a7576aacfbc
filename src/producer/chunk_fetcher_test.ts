import assert from "node:assert/strict";
import { ImapError } from "../errors.ts";
import type { FetchedBatch } from "../imap/mailbox_session.ts";
import type { FetchedMessage } from "../imap/message_payload.ts";
import { type ChunkSource, fetchChunks, type FetchedChunk } from "./chunk_fetcher.ts";
import { ChunkSizePolicy } from "./chunk_size.ts";

const LIMITS = { bodyTextChars: 10, bodyHtmlChars: 10, maxMessageBytes: 1_000 };
const uids = Array.from({ length: 20 }, (_, i) => i + 1);
const message = (uid: number) => ({ uid, size: 1, flags: [] }) as unknown as FetchedMessage;

/** A source that answers from a script: "ok", "throw", or "cut:N" (interrupted after N UIDs). */
function scripted(script: string[]): ChunkSource & { asked: number[][] } {
  const asked: number[][] = [];
  return {
    asked,
    fetchBatch(chunk): Promise<FetchedBatch> {
      asked.push([...chunk]);
      const step = script.shift() ?? "ok";
      if (step === "throw") return Promise.reject(new ImapError("IMAP_CONNECTION", "dropped"));
      const whole = step.startsWith("cut:") ? Number(step.slice(4)) : chunk.length;
      const messages = chunk.slice(0, whole).map(message);
      if (whole === chunk.length) return Promise.resolve({ messages, bytes: 1 });
      const error = new ImapError("IMAP_CONNECTION", "dropped midway");
      return Promise.resolve({
        messages,
        bytes: 1,
        interrupted: { error, throughUid: whole > 0 ? chunk[whole - 1] : undefined },
      });
    },
  };
}

async function collect(source: ChunkSource, policy: ChunkSizePolicy) {
  const chunks: FetchedChunk[] = [];
  const signal = new AbortController().signal;
  try {
    for await (const chunk of fetchChunks(source, uids, { limits: LIMITS, policy, signal })) {
      chunks.push(chunk);
    }
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

Deno.test("fetchChunks yields every UID once, in order, one chunk ahead", async () => {
  const source = scripted([]);
  const { chunks, error } = await collect(source, new ChunkSizePolicy({ max: 8 }));
  assert.equal(error, undefined);
  assert.deepEqual(chunks.flatMap((c) => c.uids), uids);
  assert.deepEqual(source.asked.map((a) => a.length), [8, 8, 4]);
});

Deno.test("fetchChunks yields the whole prefix of an interrupted chunk, then throws, and the chunk shrinks", async () => {
  const source = scripted(["ok", "cut:3"]);
  const policy = new ChunkSizePolicy({ max: 8 });
  const { chunks, error } = await collect(source, policy);
  assert.ok(error instanceof ImapError);
  assert.deepEqual(chunks.map((c) => c.uids), [[1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11]]);
  assert.equal(policy.size, 4);
});

Deno.test("fetchChunks: a chunk cut before any whole message yields nothing more", async () => {
  const { chunks, error } = await collect(scripted(["cut:0"]), new ChunkSizePolicy({ max: 8 }));
  assert.ok(error instanceof ImapError);
  assert.deepEqual(chunks, []);
});

Deno.test("fetchChunks: a prefetch that fails while the caller stops early is no unhandled rejection", async () => {
  const source = scripted(["ok", "throw"]);
  const signal = new AbortController().signal;
  const generator = fetchChunks(source, uids, {
    limits: LIMITS,
    policy: new ChunkSizePolicy({ max: 8 }),
    signal,
  });
  const first = await generator.next();
  assert.equal(first.done, false);
  // The second chunk's fetch is in flight and fails; the caller gives up meanwhile.
  await new Promise((r) => setTimeout(r, 10));
  await generator.return();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(source.asked.length, 2);
});

Deno.test("fetchChunks: a thrown fetch error shrinks the chunk and propagates", async () => {
  const policy = new ChunkSizePolicy({ max: 8 });
  const { chunks, error } = await collect(scripted(["throw"]), policy);
  assert.ok(error instanceof ImapError);
  assert.equal(chunks.length, 0);
  assert.equal(policy.size, 4);
});

Deno.test("fetchChunks: an interrupted short chunk shrinks below its own length", async () => {
  const policy = new ChunkSizePolicy({ max: 250 });
  const { error } = await collect(scripted(["cut:0"]), policy);
  assert.ok(error instanceof ImapError);
  assert.equal(policy.size, 10, "20 UIDs were asked for, so the next fetch asks for 10");
});
