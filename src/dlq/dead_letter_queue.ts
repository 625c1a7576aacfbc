/**
 * Operations on the dead-letter stream: list, replay (back onto the main
 * stream with fresh attempts) and purge. Replay moves each entry in one
 * atomic step (XADD to the main stream + XDEL from the DLQ), so an entry is
 * never in both places nor lost between them.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type { RedisClient } from "../redis/client.ts";
import { LuaScript } from "../redis/lua_script.ts";
import { fieldText, pipelineReplies } from "../redis/reply.ts";
import { type DeadLetter, type DeadLetterReason, parseDeadLetter } from "./dead_letter.ts";

/** Which streams a DLQ operation works on. */
export interface DeadLetterStreams {
  /** The main stream replayed entries go back to. */
  readonly stream: string;
  /** The dead-letter stream. */
  readonly dlqStream: string;
}

/** A page of the DLQ, oldest first. */
export interface DeadLetterPage {
  /** Entries in the DLQ in total, or with `reason` given, entries of that reason. */
  readonly total: number;
  /** The entries, oldest first. */
  readonly entries: readonly DeadLetter[];
}

/** Which page {@link listDeadLetters} reads. */
export interface DeadLetterPageOptions {
  /** Entries (of `reason`, when given) to skip first. Default 0. */
  readonly offset?: number;
  /** Only entries dead-lettered for this reason. Default: every reason. */
  readonly reason?: DeadLetterReason;
}

type RawEntry = [id: string, fields: string[]];

const SCAN_PAGE = 500;

/** Every DLQ entry, oldest first, read `SCAN_PAGE` at a time. */
async function* scanDeadLetters(redis: RedisClient, dlqStream: string): AsyncGenerator<DeadLetter> {
  let start = "-";
  for (;;) {
    const page = await redis.xrange(dlqStream, start, "+", "COUNT", SCAN_PAGE) as RawEntry[];
    for (const [id, fields] of page) yield parseDeadLetter(id, fields);
    if (page.length < SCAN_PAGE) return;
    start = `(${page[page.length - 1]![0]}`;
  }
}

/**
 * Reads up to `limit` dead letters, oldest first, after skipping `offset`
 * (both counted among entries of `reason` when it is given: the DLQ is then
 * read to its end to count them).
 */
export async function listDeadLetters(
  redis: RedisClient,
  streams: DeadLetterStreams,
  limit: number,
  options: DeadLetterPageOptions = {},
): Promise<DeadLetterPage> {
  const offset = options.offset ?? 0;
  const { reason } = options;
  if (reason === undefined && offset === 0) {
    const [total, raw] = await Promise.all([
      redis.xlen(streams.dlqStream),
      redis.xrange(streams.dlqStream, "-", "+", "COUNT", limit) as Promise<RawEntry[]>,
    ]);
    return { total, entries: raw.map(([id, fields]) => parseDeadLetter(id, fields)) };
  }
  const entries: DeadLetter[] = [];
  let matching = 0;
  for await (const entry of scanDeadLetters(redis, streams.dlqStream)) {
    if (reason !== undefined && entry.reason !== reason) continue;
    if (matching >= offset && entries.length < limit) entries.push(entry);
    matching++;
    // Without a filter the total is XLEN: stop reading once the page is full.
    if (reason === undefined && entries.length === limit) break;
  }
  const total = reason === undefined ? await redis.xlen(streams.dlqStream) : matching;
  return { total, entries };
}

/** Reads the dead letters with the given ids; ids not in the DLQ are in `missing`. */
export async function readDeadLetters(
  redis: RedisClient,
  streams: DeadLetterStreams,
  ids: readonly string[],
): Promise<{ found: DeadLetter[]; missing: string[] }> {
  const { found, missing } = await readDeadLetterBytes(redis, streams, ids);
  return {
    found: found.map((entry) => ({
      ...entry,
      originalFields: entry.originalFields.map(fieldText),
    })),
    missing,
  };
}

/** {@link readDeadLetters} with the original fields as their bytes, for replay. */
async function readDeadLetterBytes(
  redis: RedisClient,
  streams: DeadLetterStreams,
  ids: readonly string[],
): Promise<{ found: DeadLetter<Buffer>[]; missing: string[] }> {
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.xrangeBuffer(streams.dlqStream, id, id);
  const found: DeadLetter<Buffer>[] = [];
  const missing: string[] = [];
  pipelineReplies(await pipeline.exec()).forEach((reply, index) => {
    const entry = (reply as [Buffer, Buffer[]][])[0];
    if (entry) found.push(parseDeadLetter(fieldText(entry[0]), entry[1]));
    else missing.push(ids[index]!);
  });
  return { found, missing };
}

/** Every id in the DLQ, oldest first. */
export async function allDeadLetterIds(
  redis: RedisClient,
  streams: DeadLetterStreams,
): Promise<string[]> {
  const ids: string[] = [];
  for await (const entry of scanDeadLetters(redis, streams.dlqStream)) ids.push(entry.id);
  return ids;
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
  redis: RedisClient,
  streams: DeadLetterStreams,
  ids: readonly string[],
): Promise<ReplayResult> {
  const replayed: Replayed[] = [];
  const missing: string[] = [];
  for (let start = 0; start < ids.length; start += 100) {
    const { found } = await readDeadLetterBytes(redis, streams, ids.slice(start, start + 100));
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
  redis: RedisClient,
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
export function purgeAllDeadLetters(
  redis: RedisClient,
  streams: DeadLetterStreams,
): Promise<number> {
  return redis.xtrim(streams.dlqStream, "MAXLEN", 0);
}
