/**
 * Shared pieces of the worker, sink and DLQ tests: email entries, a fresh
 * stream per test, configuration and Redis clients against the test server.
 *
 * @module
 */

import { Redis } from "ioredis";
import { type Config, loadConfig } from "../src/config/config.ts";
import { emailEntryFields, type EmailPayload, SCHEMA_VERSION } from "../src/stream/entry.ts";

let streamCounter = 0;

/** A stream name no other test uses. */
export function freshStream(label: string): string {
  return `test:${label}:${Date.now().toString(36)}:${++streamCounter}`;
}

/** A valid email payload for `uid`. */
export function emailPayload(uid: number, overrides: Partial<EmailPayload> = {}): EmailPayload {
  return {
    schema_version: SCHEMA_VERSION,
    account: "worker@example.test",
    mailbox: "INBOX",
    uid,
    uidvalidity: 7,
    message_id: `<m${uid}@example.test>`,
    from: "sender@example.test",
    to: ["worker@example.test"],
    cc: [],
    reply_to: [],
    subject: `message ${uid}`,
    date: "2026-01-02T03:04:05.000Z",
    internal_date: "2026-01-02T03:04:06.000Z",
    in_reply_to: null,
    references: [],
    body_text: `body of ${uid}`,
    body_html_preview: "",
    size: 1000 + uid,
    flags: [],
    headers: {},
    attachments: [],
    gmail: null,
    fetched_at: "2026-01-02T03:04:07.000Z",
    ...overrides,
  };
}

/** Appends email entries for `uids`; returns their stream ids. */
export async function addEmails(redis: Redis, stream: string, uids: number[]): Promise<string[]> {
  const ids: string[] = [];
  for (const uid of uids) {
    ids.push((await redis.xadd(stream, "*", ...emailEntryFields(emailPayload(uid))))!);
  }
  return ids;
}

/** `1..n`. */
export function range(n: number, from = 1): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

/** Environment of a CLI run against `url` with `stream` and fast retries. */
export function workerEnv(
  url: string,
  stream: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: url,
    REDIS_STREAM_NAME: stream,
    WORKER_BACKOFF_BASE_MS: "20",
    WORKER_BACKOFF_CAP_MS: "100",
    HEALTH_PORT: "0",
    LOG_LEVEL: "warn",
    ...extra,
  };
}

/** The configuration {@link workerEnv} describes. */
export function workerConfig(
  url: string,
  stream: string,
  extra: Record<string, string> = {},
): Config {
  return loadConfig({ env: workerEnv(url, stream, extra) });
}

/** A plain client of the test Redis (close with `disconnect()`). */
export async function client(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return redis;
}

/**
 * The complete lines of a JSON-lines file, parsed; `[]` when the file does
 * not exist. Text after the last newline is left out: a test that polls the
 * file while a worker appends to it can read half of a write (CI saw
 * "Unterminated string in JSON"). A line the sink never finished is then a
 * missing line, which every count and deepEqual on the result still catches.
 */
export async function readJsonLines(path: string): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const complete = text.slice(0, text.lastIndexOf("\n") + 1);
  return complete.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

/** Polls `check` every 25 ms until it returns true; fails after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
