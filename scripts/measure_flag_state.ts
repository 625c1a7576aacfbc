/**
 * Size of the change-tracking state (`--events updated|deleted`) of a
 * 100,000-message mailbox, on a private redis-server (never the Redis on
 * 6379): the known UIDs and their flags as UID ranges per flag combination
 * (src/producer/flag_state.ts), against the naive layout of one hash field per
 * message. Prints, per mailbox shape, the combinations, stored fields, ranges,
 * the largest field (bytes: the most a commit rewrites per field it touches)
 * and Redis's `MEMORY USAGE` of both layouts.
 *
 *   deno run -A --v8-flags=--expose-gc scripts/measure_flag_state.ts [--messages 100000]
 *
 * With `--expose-gc` it also prints the heap the producer's in-memory copy of
 * the state takes (the same ranges, as numbers).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { FlagState, type MessageMarks, normaliseMarks } from "../src/producer/flag_state.ts";
import { startRedis } from "../tests/harness/redis_server.ts";

const { values } = parseArgs({ options: { messages: { type: "string", default: "100000" } } });
const messages = Number(values.messages);

/** A deterministic pseudo-random source, so every run measures the same mailboxes. */
function randomSource(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

interface Shape {
  readonly name: string;
  /** The marks of message `i`, or `null` when it was expunged. */
  readonly marks: (i: number, random: () => number) => MessageMarks | null;
}

const SHAPES: readonly Shape[] = [
  { name: "fresh sync, all unread", marks: () => normaliseMarks([], null) },
  {
    name: "read up to the last 500, 2% flagged, 5% expunged",
    marks: (i, random) =>
      random() < 0.05 ? null : normaliseMarks([
        ...(i < messages - 500 ? ["\\Seen"] : []),
        ...(random() < 0.02 ? ["\\Flagged"] : []),
      ], null),
  },
  {
    name: "worst case: read/unread at random (70% read), 5% expunged",
    marks: (_i, random) =>
      random() < 0.05 ? null : normaliseMarks(random() < 0.7 ? ["\\Seen"] : [], null),
  },
  {
    name: "Gmail: 70% read at random, 1 of 6 label sets at random",
    marks: (_i, random) =>
      normaliseMarks(random() < 0.7 ? ["\\Seen"] : [], [
        "\\Inbox",
        ...[[], ["Work"], ["Work", "Clients"], ["Receipts"], ["\\Important"], ["Travel"]][
          Math.floor(random() * 6)
        ]!,
      ]),
  },
];

/** Heap bytes held by what `build` returns (needs `--v8-flags=--expose-gc`). */
function heapOf(build: () => unknown): string {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return "n/a";
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const kept = build();
  gc();
  const bytes = Deno.memoryUsage().heapUsed - before;
  return kept ? `${bytes}` : "";
}

await using server = await startRedis();
const redis = new Redis(server.port, "127.0.0.1");
try {
  console.log(`${messages} messages per mailbox; bytes as Redis reports them (MEMORY USAGE)`);
  console.log(
    "shape | known | combinations | fields | ranges | largest field | ranges hash | one field per message | ratio | heap",
  );
  for (const shape of SHAPES) {
    const random = randomSource(42);
    const state = new FlagState();
    const naive: Record<string, string> = {};
    for (let uid = 1; uid <= messages; uid++) {
      const marks = shape.marks(uid, random);
      if (marks === null) continue;
      state.set(uid, marks);
      naive[String(uid)] = JSON.stringify([marks.flags, marks.labels]);
    }
    const hash = state.toHash();
    const heap = heapOf(() => FlagState.fromHash(hash));
    const ranges = Object.values(hash).reduce((n, v) => n + v.split(",").length, 0);
    const largest = Math.max(...Object.entries(hash).map(([f, v]) => f.length + v.length));
    await redis.del("ranges", "naive");
    await redis.hset("ranges", hash);
    for (let i = 0, keys = Object.keys(naive); i < keys.length; i += 10_000) {
      const chunk = Object.fromEntries(keys.slice(i, i + 10_000).map((k) => [k, naive[k]!]));
      await redis.hset("naive", chunk);
    }
    const used = Number(await redis.call("MEMORY", "USAGE", "ranges", "SAMPLES", "0"));
    const naiveUsed = Number(await redis.call("MEMORY", "USAGE", "naive", "SAMPLES", "0"));
    console.log(
      `${shape.name} | ${state.size} | ${state.combinations} | ${Object.keys(hash).length} | ` +
        `${ranges} | ${largest} | ${used} | ` +
        `${naiveUsed} | ${(naiveUsed / used).toFixed(1)}x smaller | ${heap}`,
    );
  }
} finally {
  redis.disconnect();
}
