/**
 * `--sink file:PATH`: appends one JSON document per line and flushes the data
 * to disk (fdatasync) before the entry is acknowledged.
 *
 * Concurrent deliveries are written together: every line that arrives while a
 * write is in progress joins the next write, and one sync makes the whole
 * group durable (group commit), so throughput grows with `--concurrency`
 * without giving up "durable before acknowledged".
 *
 * @module
 */

import { RetryableError } from "../errors.ts";
import { deliveryDocument, type Sink } from "./sink.ts";

interface PendingLine {
  readonly bytes: Uint8Array;
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
    const bytes = concat(group.map((line) => line.bytes));
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
      const line = JSON.stringify(deliveryDocument(delivery)) + "\n";
      return new Promise<void>((resolve, reject) => {
        queue.push({ bytes: encoder.encode(line), resolve, reject });
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

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
