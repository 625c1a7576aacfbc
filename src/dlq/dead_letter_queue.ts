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

// KEYS: dlq, stream. ARGV: DLQ ids. Per id: the new main-stream id, or false when it is gone.
const REPLAY = new LuaScript(`
local out = {}
for i = 1, #ARGV do
  local entries = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  local newId = false
  if #entries > 0 then
    local fields = entries[1][2]
    local count = #fields
    if count >= 2 and fields[count - 1] == 'original_fields' then
      count = tonumber(fields[count]) * 2
    end
    if count > 0 then
      newId = redis.call('XADD', KEYS[2], '*', unpack(fields, 1, count))
      redis.call('XDEL', KEYS[1], ARGV[i])
    end
  end
  out[i] = newId
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
    const chunk = ids.slice(start, start + 100);
    const reply = await REPLAY.run(redis, [streams.dlqStream, streams.stream], chunk) as (
      | string
      | null
    )[];
    chunk.forEach((dlqId, index) => {
      const newId = reply[index];
      if (typeof newId === "string") replayed.push({ dlqId, newId });
      else missing.push(dlqId);
    });
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
