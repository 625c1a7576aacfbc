/**
 * `--sink file:PATH`: appends one JSON document per line and flushes the data
 * to disk (fdatasync) before the entry is acknowledged.
 *
 * Concurrent deliveries are written together: the first write starts on the
 * next macrotask, so the lines of every handler that ran in the same turn of
 * the event loop (a worker's read batch) go out as one write; lines that
 * arrive while a write is in progress join the next one; one sync makes each
 * group durable (group commit) before any of its deliveries resolves, so
 * throughput grows with `--concurrency` without giving up "durable before
 * acknowledged".
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { RetryableError } from "../errors.ts";
import { deliveryJson, type Sink } from "./sink.ts";

interface PendingLine {
  readonly text: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const encoder = new TextEncoder();

/** Opens (creating if needed) `path` for appending and returns the sink. */
export async function createFileSink(path: string): Promise<Sink> {
  const file = await Deno.open(path, { append: true, create: true });
  let queue: PendingLine[] = [];
  let writing: Promise<void> | undefined;
  let closed = false;

  async function writeGroup(group: PendingLine[]): Promise<void> {
    // One encode of the joined text: no per-line buffers to copy together.
    const bytes = encoder.encode(group.map((line) => line.text).join(""));
    try {
      let offset = 0;
      while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
      await file.syncData();
      for (const line of group) line.resolve();
    } catch (error) {
      const failure = new RetryableError(`cannot append to ${path}`, { cause: error });
      for (const line of group) line.reject(failure);
    }
  }

  async function drainQueue(): Promise<void> {
    // Wait for the rest of this turn's lines: one write and one sync for all of them.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      await writeGroup(group);
    }
    writing = undefined;
  }

  return {
    kind: "file",
    handle(delivery) {
      if (closed) return Promise.reject(new RetryableError(`file sink ${path} is closed`));
      const line = deliveryJson(delivery) + "\n";
      return new Promise<void>((resolve, reject) => {
        queue.push({ text: line, resolve, reject });
        writing ??= drainQueue();
      });
    },
    async close() {
      closed = true;
      await writing;
      file.close();
    },
  };
}
