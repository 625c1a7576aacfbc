/**
 * Shared pieces of the partition tests (one Redis and the cluster): entries
 * spread over partition streams, the uids a file sink received, a handler
 * that holds uid 1 forever.
 *
 * @module
 */

import { partitionStreams } from "../src/redis/partitions.ts";
import type { RedisClient } from "../src/redis/client.ts";
import { emailEntryFields } from "../src/stream/entry.ts";
import { type Dovecot, startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { emailPayload, readJsonLines } from "./worker_fixtures.ts";

/** Partitions of these tests (STREAM_PARTITIONS). */
export const PARTITIONS = 6;

/** Adds `uids` to the partitions round-robin (uid % 6); returns how many each got. */
export async function spreadEmails(
  redis: RedisClient,
  stream: string,
  uids: number[],
): Promise<number[]> {
  const streams = partitionStreams(stream, PARTITIONS);
  const counts = streams.map(() => 0);
  for (const uid of uids) {
    await redis.xadd(streams[uid % PARTITIONS]!, "*", ...emailEntryFields(emailPayload(uid)));
    counts[uid % PARTITIONS]!++;
  }
  return counts;
}

/** Every email entry of the partition streams of `stream`: its partition stream, id and key. */
export async function partitionEmails(
  redis: RedisClient,
  stream: string,
): Promise<{ stream: string; id: string; key: string }[]> {
  const rows = [];
  for (const s of partitionStreams(stream, PARTITIONS)) {
    for (const [id, f] of await redis.xrange(s, "-", "+")) {
      if (f[f.indexOf("type") + 1] !== "email") continue;
      rows.push({ stream: s, id, key: f[f.indexOf("idempotency_key") + 1]! });
    }
  }
  return rows;
}

/** The uids delivered into the file sinks at `paths`, in order. */
export async function deliveredUids(...paths: string[]): Promise<number[]> {
  const lines = (await Promise.all(paths.map(readJsonLines))).flat();
  return lines.map((line) => (line.payload as { uid: number }).uid);
}

/** Numbers in ascending order. */
export const sorted = (values: number[]) => [...values].sort((a, b) => a - b);

/**
 * A handler module: with HANDLER_MODE=block in the worker's environment it
 * never returns for uid 1; every call that returns appends `{uid}` to
 * out.jsonl in `dir` (as `payload.uid`, like the file sink).
 */
export function blockingHandler(dir: string): string {
  return `
export async function handle(email: { uid: number }) {
  if (email.uid === 1 && Deno.env.get("HANDLER_MODE") === "block") {
    await new Promise(() => setInterval(() => {}, 1000));
  }
  await Deno.writeTextFile(${JSON.stringify(dir)} + "/out.jsonl",
    JSON.stringify({ payload: { uid: email.uid } }) + "\\n", { append: true });
}
`;
}

/**
 * A Dovecot whose users are `accounts` (password `secret`), each INBOX seeded
 * with `count` realistic messages: the `i`th of account `a` is
 * `realisticMessage(a * stride + i)`, so no two accounts share one.
 */
export async function seededDovecot(
  accounts: readonly string[],
  count: number,
  stride = 100,
): Promise<Dovecot> {
  const dovecot = await startDovecot({
    users: accounts.map((user) => ({ user, password: "secret" })),
  });
  for (const [a, user] of accounts.entries()) {
    const messages = [];
    for (let i = 0; i < count; i++) messages.push(await realisticMessage(a * stride + i));
    await dovecot.seedMaildir(user, "INBOX", messages);
  }
  return dovecot;
}
