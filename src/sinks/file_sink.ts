/**
 * `--sink file:PATH`: appends one JSON document per line and flushes the data
 * to disk (fdatasync) before the entry is acknowledged.
 *
 * Concurrent deliveries are written together: the first write starts on the
 * next macrotask, so the lines of every handler that ran in the same turn of
 * the event loop (a worker's read batch) go out together (in writes of at
 * most 1 MiB, which can cost the kernel less CPU per MB than larger ones); lines that
 * arrive while a write is in progress join the next one. Syncs commit groups
 * the same way: one fdatasync covers every line written before it started,
 * the next group is written while it runs, and the lines written meanwhile
 * share the sync after it. A delivery resolves only once a sync that began
 * after its line was written has ended, so throughput grows with
 * `--concurrency` without giving up "durable before acknowledged". Each line
 * is encoded part by part as its delivery arrives, the stored payload as it
 * came from Redis (its bytes copied when the worker passes them, its text
 * encoded otherwise), into one of two buffers kept between groups: no line or
 * group text is built, and none is held while earlier lines are written.
 * Once a sync has ended, the kernel may drop the synced lines' pages from its
 * page cache (`pageCache`, `FILE_SINK_PAGE_CACHE`; `./page_cache.ts`): the
 * next writes take the memory just freed instead of the machine's free
 * memory, which costs a VM several times the CPU.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { RetryableError } from "../errors.ts";
import { openPageCacheDrop } from "./page_cache.ts";
import { deliveryJsonParts, type Sink } from "./sink.ts";

/**
 * The deliveries of the lines of one write: they share one promise, settled
 * when a sync begun after the write has ended (one promise a group, not one
 * a line: fewer objects for each of the hundreds of lines waiting on a sync).
 */
type LineGroup = PromiseWithResolvers<void>;

const encoder = new TextEncoder();
const NEWLINE = 0x0a;
/** A group buffer's size to begin with. */
const GROUP_BYTES_START = 64 * 1024;
/** The largest group buffer kept between writes (a 500-line group of 3 KB lines takes 1.5 MB). */
const REUSED_BYTES_MAX = 8 * 1024 * 1024;
/**
 * The most bytes handed to one write while the file's pages stay cached: a
 * larger group goes out in several. When the page cache takes fresh memory,
 * one 6.4 MB write took the kernel 2.0–3.1× the CPU per MB of 1 MB writes of
 * the same data (`scripts/bench_disk.ts --group-kb 6400` with and without
 * `--write-kb 1024`; docs/WORKER_PROFILE.md, waves 19 and 20). With the
 * synced pages dropped, the writes take the memory just freed, where one
 * 1.6 MB write cost what 1 MiB writes do (0.33–0.39 ms per MB, wave 21): a
 * group then goes out in one write, one hand-over to the I/O threads less,
 * each of which costs the JavaScript thread tens of µs.
 */
const WRITE_BYTES_MAX_CACHED = 1024 * 1024;

/** What the file sink needs of an open file. */
export type AppendFile = Pick<Deno.FsFile, "write" | "syncData" | "close">;

/** What becomes of the file's pages in the kernel's page cache once they are on disk. */
export type FileSinkPageCache = "drop" | "keep";

/** Options of {@link createFileSink}. */
export interface FileSinkOptions {
  /** Opens `path` for appending. Default: `Deno.open` (created if missing); tests pass a file to watch. */
  open?: (path: string) => Promise<AppendFile>;
  /**
   * `drop` (the default): the kernel may drop the pages of the lines on disk
   * (Linux, with FFI permission: `./page_cache.ts`); `keep`: they stay
   * cached, for a reader that tails the file (`FILE_SINK_PAGE_CACHE`).
   */
  pageCache?: FileSinkPageCache;
}

/**
 * Group commit of the syncs: one fdatasync for every line written before it
 * began; lines written while it runs wait for the next one, which starts
 * when it ends.
 */
class SyncCommits {
  readonly #file: AppendFile;
  readonly #fail: (groups: readonly LineGroup[], error: unknown) => void;
  readonly #onSynced: (bytes: number) => void;
  /** Groups written and waiting for a sync to begin. */
  #written: LineGroup[] = [];
  /** Bytes written since the file was opened. */
  #writtenBytes = 0;
  #syncing: Promise<void> | undefined;

  /** `onSynced(bytes)`: the first `bytes` written are on disk. */
  constructor(
    file: AppendFile,
    fail: (groups: readonly LineGroup[], error: unknown) => void,
    onSynced: (bytes: number) => void,
  ) {
    this.#file = file;
    this.#fail = fail;
    this.#onSynced = onSynced;
  }

  /** `group`'s `bytes` were written: it resolves when a sync that begins from now on has ended. */
  written(group: LineGroup, bytes: number): void {
    this.#written.push(group);
    this.#writtenBytes += bytes;
    this.#start();
  }

  /** Resolves once every written line's sync has ended. */
  async settled(): Promise<void> {
    while (this.#syncing !== undefined) await this.#syncing;
  }

  #start(): void {
    if (this.#syncing !== undefined || this.#written.length === 0) return;
    const groups = this.#written;
    const covered = this.#writtenBytes;
    this.#written = [];
    this.#syncing = this.#file.syncData().then(
      () => {
        groups.forEach((group) => group.resolve());
        this.#onSynced(covered);
      },
      (error) => this.#fail(groups, error),
    ).then(() => {
      this.#syncing = undefined;
      this.#start();
    });
  }
}

/**
 * The lines of the next write, encoded as UTF-8 as each arrives: a line's
 * text (the payload above all) is garbage as soon as its delivery is queued,
 * so no young-generation collection copies it while earlier lines are
 * written. Two buffers take turns, kept between groups: one fills while the
 * other's group is written (one group is written at a time).
 */
class GroupBuffer {
  #filling = new Uint8Array(GROUP_BYTES_START);
  #length = 0;
  #spare = new Uint8Array(GROUP_BYTES_START);

  /** Appends one line: its parts (text, or bytes copied as they are), then a newline. */
  append(parts: readonly (string | Uint8Array)[]): void {
    let most = 1; // UTF-8 takes at most 3 bytes per UTF-16 unit
    for (const part of parts) most += typeof part === "string" ? 3 * part.length : part.length;
    if (this.#filling.length - this.#length < most) this.#grow(most);
    for (const part of parts) {
      if (part.length === 0) continue;
      if (typeof part === "string") {
        this.#length += encoder.encodeInto(part, this.#filling.subarray(this.#length)).written;
      } else {
        this.#filling.set(part, this.#length);
        this.#length += part.length;
      }
    }
    this.#filling[this.#length++] = NEWLINE;
  }

  /**
   * The lines appended since the last call; the next lines go to the other
   * buffer. The bytes stay as they are until the call after next.
   */
  take(): Uint8Array {
    const group = this.#filling.subarray(0, this.#length);
    const next = this.#spare;
    // A buffer grown past the cap (a few huge lines) is let go after its write.
    this.#spare = this.#filling.length <= REUSED_BYTES_MAX
      ? this.#filling
      : new Uint8Array(GROUP_BYTES_START);
    this.#filling = next;
    this.#length = 0;
    return group;
  }

  #grow(room: number): void {
    const grown = new Uint8Array(Math.max(2 * this.#filling.length, this.#length + room));
    grown.set(this.#filling.subarray(0, this.#length));
    this.#filling = grown;
  }
}

/** Opens (creating if needed) `path` for appending and returns the sink. */
export async function createFileSink(path: string, options: FileSinkOptions = {}): Promise<Sink> {
  const open = options.open ?? ((at: string) => Deno.open(at, { append: true, create: true }));
  const file = await open(path);
  const pageCache = options.pageCache === "keep" ? undefined : await openPageCacheDrop(path);
  const writeBytesMax = pageCache === undefined ? WRITE_BYTES_MAX_CACHED : Infinity;
  /** The deliveries of the lines in `lines`, waiting for the next write. */
  let queue: LineGroup | undefined;
  let writing: Promise<void> | undefined;
  let closed = false;
  const fail = (groups: readonly LineGroup[], error: unknown) => {
    const failure = new RetryableError(`cannot append to ${path}`, { cause: error });
    for (const group of groups) group.reject(failure);
  };
  const commits = new SyncCommits(file, fail, (bytes) => pageCache?.synced(bytes));
  const lines = new GroupBuffer();

  async function writeGroup(bytes: Uint8Array, group: LineGroup): Promise<void> {
    try {
      let offset = 0;
      while (offset < bytes.length) {
        offset += await file.write(bytes.subarray(offset, offset + writeBytesMax));
      }
    } catch (error) {
      return fail([group], error);
    }
    commits.written(group, bytes.length);
  }

  async function drainQueue(): Promise<void> {
    // Wait for the rest of this turn's lines: they go out as one group.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue !== undefined) {
      const group = queue;
      queue = undefined;
      await writeGroup(lines.take(), group);
    }
    writing = undefined;
  }

  return {
    kind: "file",
    handle(delivery) {
      if (closed) return Promise.reject(new RetryableError(`file sink ${path} is closed`));
      const [head, stored, tail] = deliveryJsonParts(delivery);
      // The stored payload's bytes as read, when the worker has them: no encoding of its text.
      lines.append([head, stored === "" ? "" : delivery.payloadBytes ?? stored, tail]);
      queue ??= Promise.withResolvers<void>();
      writing ??= drainQueue();
      return queue.promise;
    },
    async close() {
      closed = true;
      await writing;
      await commits.settled();
      await pageCache?.close();
      file.close();
    },
  };
}
