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
 * acknowledged". A group's lines are encoded part by part into one buffer
 * kept between groups, the stored payload text as it came from Redis: no
 * line or group text is built (a quarter of the worker's allocations).
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { RetryableError } from "../errors.ts";
import { deliveryJsonParts, type Sink } from "./sink.ts";

interface PendingLine {
  /** The line's text in parts ({@link deliveryJsonParts}); a newline follows them. */
  readonly parts: readonly [string, string, string];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const encoder = new TextEncoder();
const NEWLINE = 0x0a;
/** The largest group buffer kept between writes (a 500-line group of 3 KB lines takes 4.5 MB). */
const REUSED_BYTES_MAX = 8 * 1024 * 1024;

/** Encodes groups of lines into one buffer kept between groups (one group is written at a time). */
class GroupEncoder {
  #reused = new Uint8Array(64 * 1024);

  /** The group's lines as UTF-8, each part encoded in place: no joined or flattened text. */
  encode(group: readonly PendingLine[]): Uint8Array {
    let most = 0; // UTF-8 takes at most 3 bytes per UTF-16 unit
    for (const { parts } of group) {
      most += 3 * (parts[0].length + parts[1].length + parts[2].length) + 1;
    }
    if (this.#reused.length < most && most <= REUSED_BYTES_MAX) {
      this.#reused = new Uint8Array(
        Math.min(REUSED_BYTES_MAX, Math.max(most, 2 * this.#reused.length)),
      );
    }
    // A larger group (a few huge lines) gets a buffer of its own, freed after its write.
    const buffer = this.#reused.length >= most ? this.#reused : new Uint8Array(most);
    let length = 0;
    for (const { parts } of group) {
      for (const part of parts) {
        if (part.length > 0) length += encoder.encodeInto(part, buffer.subarray(length)).written;
      }
      buffer[length++] = NEWLINE;
    }
    return buffer.subarray(0, length);
  }
}

/** Opens (creating if needed) `path` for appending and returns the sink. */
export async function createFileSink(path: string): Promise<Sink> {
  const file = await Deno.open(path, { append: true, create: true });
  let queue: PendingLine[] = [];
  let writing: Promise<void> | undefined;
  let closed = false;
  const lines = new GroupEncoder();

  async function writeGroup(group: PendingLine[]): Promise<void> {
    const bytes = lines.encode(group);
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
      const parts = deliveryJsonParts(delivery);
      return new Promise<void>((resolve, reject) => {
        queue.push({ parts, resolve, reject });
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
