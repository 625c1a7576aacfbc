/**
 * `--sink file:PATH`: appends one JSON document per line and flushes the data
 * to disk (fdatasync) before the entry is acknowledged.
 *
 * Concurrent deliveries are written together: the first write starts on the
 * next macrotask, so the lines of every handler that ran in the same turn of
 * the event loop (a worker's read batch) go out as one write; lines that
 * arrive while a write is in progress join the next one. Syncs commit groups
 * the same way: one fdatasync covers every line written before it started,
 * the next group is written while it runs, and the lines written meanwhile
 * share the sync after it. A delivery resolves only once a sync that began
 * after its line was written has ended, so throughput grows with
 * `--concurrency` without giving up "durable before acknowledged". A group's
 * lines are encoded part by part into one buffer kept between groups, the
 * stored payload text as it came from Redis: no line or group text is built.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { RetryableError } from "../errors.ts";
import { deliveryJsonParts, type Sink } from "./sink.ts";

/** The line's text in parts ({@link deliveryJsonParts}); a newline follows them. */
type LineParts = readonly [string, string, string];

/** The delivery waiting for its line to be written and synced. */
interface PendingLine {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Lines queued for the next write: their text and, apart, their deliveries.
 * The text is let go once the group is encoded, so that payloads are not held
 * (and copied by each young-generation collection) while the sync runs.
 */
interface LineGroup {
  readonly parts: LineParts[];
  readonly pending: PendingLine[];
}

const encoder = new TextEncoder();
const NEWLINE = 0x0a;
/** The largest group buffer kept between writes (a 500-line group of 3 KB lines takes 4.5 MB). */
const REUSED_BYTES_MAX = 8 * 1024 * 1024;

/** What the file sink needs of an open file. */
export type AppendFile = Pick<Deno.FsFile, "write" | "syncData" | "close">;

/** Options of {@link createFileSink}. */
export interface FileSinkOptions {
  /** Opens `path` for appending. Default: `Deno.open` (created if missing); tests pass a file to watch. */
  open?: (path: string) => Promise<AppendFile>;
}

/**
 * Group commit of the syncs: one fdatasync for every line written before it
 * began; lines written while it runs wait for the next one, which starts
 * when it ends.
 */
class SyncCommits {
  readonly #file: AppendFile;
  readonly #fail: (group: readonly PendingLine[], error: unknown) => void;
  /** Lines written and waiting for a sync to begin. */
  #written: PendingLine[] = [];
  #syncing: Promise<void> | undefined;

  constructor(file: AppendFile, fail: (group: readonly PendingLine[], error: unknown) => void) {
    this.#file = file;
    this.#fail = fail;
  }

  /** `group` was written: it resolves when a sync that begins from now on has ended. */
  written(group: PendingLine[]): void {
    this.#written = this.#written.length === 0 ? group : this.#written.concat(group);
    this.#start();
  }

  /** Resolves once every written line's sync has ended. */
  async settled(): Promise<void> {
    while (this.#syncing !== undefined) await this.#syncing;
  }

  #start(): void {
    if (this.#syncing !== undefined || this.#written.length === 0) return;
    const group = this.#written;
    this.#written = [];
    this.#syncing = this.#file.syncData().then(
      () => group.forEach((line) => line.resolve()),
      (error) => this.#fail(group, error),
    ).then(() => {
      this.#syncing = undefined;
      this.#start();
    });
  }
}

/** Encodes groups of lines into one buffer kept between groups (one group is written at a time). */
class GroupEncoder {
  #reused = new Uint8Array(64 * 1024);

  /** The lines as UTF-8, each part encoded in place: no joined or flattened text. */
  encode(lines: readonly LineParts[]): Uint8Array {
    let most = 0; // UTF-8 takes at most 3 bytes per UTF-16 unit
    for (const parts of lines) {
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
    for (const parts of lines) {
      for (const part of parts) {
        if (part.length > 0) length += encoder.encodeInto(part, buffer.subarray(length)).written;
      }
      buffer[length++] = NEWLINE;
    }
    return buffer.subarray(0, length);
  }
}

/** Opens (creating if needed) `path` for appending and returns the sink. */
export async function createFileSink(path: string, options: FileSinkOptions = {}): Promise<Sink> {
  const open = options.open ?? ((at: string) => Deno.open(at, { append: true, create: true }));
  const file = await open(path);
  let queue: LineGroup = { parts: [], pending: [] };
  let writing: Promise<void> | undefined;
  let closed = false;
  const fail = (group: readonly PendingLine[], error: unknown) => {
    const failure = new RetryableError(`cannot append to ${path}`, { cause: error });
    for (const line of group) line.reject(failure);
  };
  const commits = new SyncCommits(file, fail);
  const lines = new GroupEncoder();

  async function writeGroup({ parts, pending }: LineGroup): Promise<void> {
    const bytes = lines.encode(parts);
    parts.length = 0;
    try {
      let offset = 0;
      while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
    } catch (error) {
      return fail(pending, error);
    }
    commits.written(pending);
  }

  async function drainQueue(): Promise<void> {
    // Wait for the rest of this turn's lines: one write for all of them.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue.pending.length > 0) {
      const group = queue;
      queue = { parts: [], pending: [] };
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
        queue.parts.push(parts);
        queue.pending.push({ resolve, reject });
        writing ??= drainQueue();
      });
    },
    async close() {
      closed = true;
      await writing;
      await commits.settled();
      file.close();
    },
  };
}
