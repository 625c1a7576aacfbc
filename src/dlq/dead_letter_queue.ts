/**
 * Operations on the dead-letter stream: list, replay (back onto the main
 * stream with fresh attempts) and purge. Replay moves each entry in one
 * atomic step (XADD to the main stream + XDEL from the DLQ), so an entry is
 * never in both places nor lost between them.
 *
 * @module
 */

import type { Redis } from "ioredis";
import { LuaScript } from "../redis/lua_script.ts";
import { type DeadLetter, parseDeadLetter } from "./dead_letter.ts";

/** Which streams a DLQ operation works on. */
export interface DeadLetterStreams {
  /** The main stream replayed entries go back to. */
  readonly stream: string;
  /** The dead-letter stream. */
  readonly dlqStream: string;
}

/** A page of the DLQ, oldest first. */
export interface DeadLetterPage {
  /** Entries in the DLQ in total. */
  readonly total: number;
  /** The entries, oldest first. */
  readonly entries: readonly DeadLetter[];
}

type RawEntry = [id: string, fields: string[]];

/** Reads up to `limit` dead letters, oldest first. */
export async function listDeadLetters(
  redis: Redis,
  streams: DeadLetterStreams,
  limit: number,
): Promise<DeadLetterPage> {
  const [total, raw] = await Promise.all([
    redis.xlen(streams.dlqStream),
    redis.xrange(streams.dlqStream, "-", "+", "COUNT", limit) as Promise<RawEntry[]>,
  ]);
  return { total, entries: raw.map(([id, fields]) => parseDeadLetter(id, fields)) };
}

/** Reads the dead letters with the given ids; ids not in the DLQ are in `missing`. */
export async function readDeadLetters(
  redis: Redis,
  streams: DeadLetterStreams,
  ids: readonly string[],
): Promise<{ found: DeadLetter[]; missing: string[] }> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.xrange(streams.dlqStream, id, id);
  const replies = (await pipeline.exec()) ?? [];
  const found: DeadLetter[] = [];
  const missing: string[] = [];
  replies.forEach(([error, reply], index) => {
    if (error) throw error;
    const entry = (reply as RawEntry[])[0];
    if (entry) found.push(parseDeadLetter(entry[0], entry[1]));
    else missing.push(ids[index]!);
  });
  return { found, missing };
}

/** Every id in the DLQ, oldest first. */
export async function allDeadLetterIds(
  redis: Redis,
  streams: DeadLetterStreams,
): Promise<string[]> {
  const ids: string[] = [];
  let start = "-";
  for (;;) {
    const page = await redis.xrange(streams.dlqStream, start, "+", "COUNT", 500) as RawEntry[];
    for (const [id] of page) ids.push(id);
    if (page.length < 500) return ids;
    start = `(${page[page.length - 1]![0]}`;
  }
}

// KEYS: dlq, stream. ARGV: per entry its DLQ id, how many strings follow, then
// the original fields to write back (parsed by parseDeadLetter: the layout is
// read in TypeScript only). The entry is moved only while it is still in the
// DLQ, so two replays of one id never add it twice. Per entry: the new id or false.
const REPLAY = new LuaScript(`
local out = {}
local i = 1
while i <= #ARGV do
  local id, count = ARGV[i], tonumber(ARGV[i + 1])
  local newId = false
  if #redis.call('XRANGE', KEYS[1], id, id) > 0 then
    newId = redis.call('XADD', KEYS[2], '*', unpack(ARGV, i + 2, i + 1 + count))
    redis.call('XDEL', KEYS[1], id)
  end
  table.insert(out, newId)
  i = i + 2 + count
end
return out
`);

/** One replayed entry. */
export interface Replayed {
  /** Its id in the DLQ (now deleted there). */
  readonly dlqId: string;
  /** Its new id in the main stream: a fresh entry, so attempts start again. */
  readonly newId: string;
}

/** The outcome of {@link replayDeadLetters}. */
export interface ReplayResult {
  /** What was moved, old id to new id. */
  readonly replayed: readonly Replayed[];
  /** Ids that were not in the DLQ (already replayed or purged). */
  readonly missing: readonly string[];
}

/** Moves the dead letters `ids` back to the main stream, each atomically. */
export async function replayDeadLetters(
  redis: Redis,
  streams: DeadLetterStreams,
  ids: readonly string[],
): Promise<ReplayResult> {
  const replayed: Replayed[] = [];
  const missing: string[] = [];
  for (let start = 0; start < ids.length; start += 100) {
    const { found } = await readDeadLetters(redis, streams, ids.slice(start, start + 100));
    // An entry without original fields has nothing to write back: it stays in the DLQ.
    const movable = found.filter((entry) => entry.originalFields.length > 0);
    const args = movable.flatMap((
      e,
    ) => [e.id, String(e.originalFields.length), ...e.originalFields]);
    const reply = movable.length === 0
      ? []
      : await REPLAY.run(redis, [streams.dlqStream, streams.stream], args) as (string | null)[];
    // Replies in the order of `movable`, which keeps the order of `ids` (repeats included).
    let next = 0;
    for (const dlqId of ids.slice(start, start + 100)) {
      const newId = movable[next]?.id === dlqId ? reply[next++] : undefined;
      if (typeof newId === "string") replayed.push({ dlqId, newId });
      else missing.push(dlqId);
    }
  }
  return { replayed, missing };
}

/** Deletes the dead letters `ids`; returns how many existed. */
export async function purgeDeadLetters(
  redis: Redis,
  streams: DeadLetterStreams,
  ids: readonly string[],
): Promise<number> {
  let deleted = 0;
  for (let start = 0; start < ids.length; start += 500) {
    deleted += await redis.xdel(streams.dlqStream, ...ids.slice(start, start + 500));
  }
  return deleted;
}

/** Empties the DLQ (the key stays, length 0); returns how many entries were removed. */
export function purgeAllDeadLetters(redis: Redis, streams: DeadLetterStreams): Promise<number> {
  return redis.xtrim(streams.dlqStream, "MAXLEN", 0);
}
