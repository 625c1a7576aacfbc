/**
 * Counting what a fault scenario left behind, from Redis and from the sink's
 * own records (never assumed): entries and duplicates in the stream, DLQ
 * entries by reason, deliveries per idempotency key, attempt numbers.
 *
 * @module
 */

import type { RedisClient } from "../../src/redis/client.ts";
import type { ReceivedRequest } from "../harness/flaky_receiver.ts";
import type { FaultReport } from "./scenario.ts";

/** Email entries of a stream. */
export interface StreamCounts {
  readonly total: number;
  readonly distinct: number;
  readonly keys: ReadonlySet<string>;
}

/** Counts the email entries of `stream` by idempotency key. */
export async function streamCounts(redis: RedisClient, stream: string): Promise<StreamCounts> {
  const keys: string[] = [];
  let start = "-";
  while (true) {
    const page = await redis.xrange(stream, start, "+", "COUNT", 1000);
    for (const [, fields] of page) {
      const field = (name: string) => fields[fields.indexOf(name) + 1];
      if (field("type") === "email") keys.push(field("idempotency_key") ?? "");
    }
    if (page.length < 1000) break;
    start = `(${page.at(-1)![0]}`;
  }
  const distinct = new Set(keys);
  return { total: keys.length, distinct: distinct.size, keys: distinct };
}

/** DLQ entries by reason. */
export async function dlqCounts(
  redis: RedisClient,
  dlqStream: string,
): Promise<FaultReport["dlq"]> {
  const entries = await redis.xrange(dlqStream, "-", "+");
  const reasons: Record<string, number> = {};
  for (const [, fields] of entries) {
    const reason = fields[fields.indexOf("reason") + 1] ?? "unknown";
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  return { total: entries.length, reasons };
}

/** Entries of `group` not yet acknowledged: pending plus lag (1 while the group is missing). */
export async function groupBacklog(
  redis: RedisClient,
  stream: string,
  group: string,
): Promise<number> {
  const groups = await redis.xinfo("GROUPS", stream).catch(() => []) as unknown[][];
  for (const entry of groups) {
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < entry.length; i += 2) info.set(String(entry[i]), entry[i + 1]);
    if (info.get("name") !== group) continue;
    return Number(info.get("pending") ?? 0) + Number(info.get("lag") ?? 1);
  }
  return 1;
}

/** One sink run as the sink recorded it. */
export interface SinkRun {
  readonly key: string;
  /** The attempt number the worker passed. */
  readonly attempt: number;
  /** Whether the worker saw this run succeed. */
  readonly succeeded: boolean;
}

/** Per-key counts of sink runs, plus whether the attempt numbers were truthful. */
export interface SinkCounts {
  readonly sink: FaultReport["sink"];
  /** Keys whose attempt numbers, in arrival order, repeat, go back, or undercount earlier runs. */
  readonly untruthfulAttempts: readonly string[];
  /** Keys with no successful run. */
  readonly keysWithoutSuccess: number;
}

/** Counts `runs` (in arrival order). */
export function sinkCounts(runs: readonly SinkRun[]): SinkCounts {
  const byKey = new Map<string, SinkRun[]>();
  for (const run of runs) byKey.set(run.key, [...(byKey.get(run.key) ?? []), run]);
  let repeated = 0;
  let withoutSuccess = 0;
  const untruthful: string[] = [];
  for (const [key, list] of byKey) {
    const successes = list.filter((r) => r.succeeded).length;
    repeated += Math.max(0, successes - 1);
    if (successes === 0) withoutSuccess++;
    // The n-th run of a key is at least attempt n, and later than the run before. It may
    // skip numbers: a delivery whose reply was lost (RedisClient killed) never reached the sink.
    const truthful = list.every((r, i) =>
      r.attempt >= i + 1 && (i === 0 || r.attempt > list[i - 1]!.attempt)
    );
    if (!truthful) untruthful.push(key);
  }
  return {
    sink: {
      deliveries: runs.length,
      distinct_keys: byKey.size,
      keys_delivered_more_than_once: [...byKey.values()].filter((l) => l.length > 1).length,
      repeated_successes: repeated,
    },
    untruthfulAttempts: untruthful,
    keysWithoutSuccess: withoutSuccess,
  };
}

/** The receiver's requests as sink runs ("ok" is a success the worker saw). */
export function receiverRuns(requests: readonly ReceivedRequest[]): SinkRun[] {
  return requests.map((r) => ({
    key: r.idempotencyKey,
    attempt: r.attempt,
    succeeded: r.outcome === "ok",
  }));
}

/** Sink runs from file-sink JSON lines (each line is a successful run). */
export async function fileSinkRuns(paths: readonly string[]): Promise<SinkRun[]> {
  const runs: SinkRun[] = [];
  for (const path of paths) {
    const text = await Deno.readTextFile(path).catch(() => "");
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      const doc = JSON.parse(line) as { idempotency_key: string; attempt: number };
      runs.push({ key: doc.idempotency_key, attempt: doc.attempt, succeeded: true });
    }
  }
  return runs;
}
