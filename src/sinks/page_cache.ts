/**
 * Letting the kernel drop a file's pages from its page cache once they are on
 * disk, for a file that is appended to and not read back: the file sink's
 * output. PostgreSQL does the same with the WAL it will not read again
 * (`posix_fadvise(POSIX_FADV_DONTNEED)`).
 *
 * Why: every page an append writes stays cached until memory runs short, so
 * a worker writing for hours fills the machine's free memory with its output.
 * On a virtual machine, memory the guest has not used yet (or gave back to
 * the host) costs the kernel several times the CPU to take: appending 3 GB
 * cost 1.3–2.3 ms of CPU per MB with the pages kept, 0.35 with them dropped
 * as they were synced, the next writes taking the freed pages again
 * (docs/WORKER_PROFILE.md, wave 21). A reader that tails the file reads the
 * dropped pages from disk instead.
 *
 * Linux only, through Deno's FFI (`--allow-ffi`, which the `ingest` task,
 * binary and bundle have): elsewhere, without the permission, or when the
 * path is not a regular file, nothing is dropped and the sink works as
 * before. The call runs off the JavaScript thread and its answer is only a
 * hint's: an error changes nothing.
 *
 * @module
 */

/** `open(2)` flags: read only, never block (a FIFO), not inherited by children. */
const O_RDONLY_NONBLOCK_CLOEXEC = 0o0 | 0o4000 | 0o2000000;
/** `posix_fadvise(2)` advice on x86-64 and arm64 Linux. */
const POSIX_FADV_DONTNEED = 4;
/**
 * Only whole 4 KiB pages up to the last one fully written are dropped: the
 * partial page at the end stays, or the next append would read it back.
 */
const PAGE_BYTES = 4096;
/**
 * The kernel is asked once this many more bytes are on disk, not after
 * every sync: each call costs the JavaScript thread about as much as a
 * write's hand-over to the I/O threads (0.26 µs a line under `--cpu-prof` of
 * the file-sink worker when made for every 1.5 MB group, docs/WORKER_PROFILE.md,
 * wave 21), and 8 MiB of cached pages at most is still memory the next writes
 * take again at once.
 */
const DROP_EVERY_BYTES = 8 * 1024 * 1024;

const LIBC_SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32", nonblocking: true },
} as const;

/** Drops the cached pages of a file's synced bytes; see the module documentation. */
export interface PageCacheDrop {
  /**
   * The first `bytes` appended since the file was opened are on disk: their
   * pages may go, once 8 MiB more than last time are. At most one call to
   * the kernel runs at a time; calls made meanwhile are folded into the next.
   * Resolves (never rejects) once the kernel has been asked, or at once when
   * it is not asked yet; the file sink does not wait for it.
   */
  synced(bytes: number): Promise<void>;
  /** Asks for the rest of the synced pages to go, then closes the descriptor it uses. */
  close(): Promise<void>;
}

/**
 * A {@link PageCacheDrop} for the regular file at `path`, opened for
 * appending now, or `undefined` when pages cannot be dropped here (not Linux,
 * no FFI permission, no C library to load, not a regular file).
 */
export async function openPageCacheDrop(path: string): Promise<PageCacheDrop | undefined> {
  if (Deno.build.os !== "linux" || !["x86_64", "aarch64"].includes(Deno.build.arch)) {
    return undefined;
  }
  // Queried, not requested: a worker in a terminal must not stop at a permission prompt.
  if ((await Deno.permissions.query({ name: "ffi" })).state !== "granted") return undefined;
  let stat: Deno.FileInfo;
  let libc: Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;
  try {
    stat = await Deno.stat(path);
    if (!stat.isFile) return undefined;
    libc = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
  } catch {
    return undefined;
  }
  const fd = libc.symbols.open(new TextEncoder().encode(`${path}\0`), O_RDONLY_NONBLOCK_CLOEXEC);
  if (fd < 0) {
    libc.close();
    return undefined;
  }
  return new KernelPageCacheDrop(libc, fd, stat.size);
}

class KernelPageCacheDrop implements PageCacheDrop {
  readonly #libc: Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;
  readonly #fd: number;
  /** The file's size when it was opened: where the appended bytes begin. */
  readonly #start: number;
  /** Bytes from the file's beginning whose pages were asked to go, and are wanted to go. */
  #asked = 0;
  #wanted = 0;
  #running: Promise<void> | undefined;

  constructor(libc: Deno.DynamicLibrary<typeof LIBC_SYMBOLS>, fd: number, start: number) {
    this.#libc = libc;
    this.#fd = fd;
    this.#start = start;
  }

  synced(bytes: number): Promise<void> {
    this.#wanted = Math.max(this.#wanted, this.#start + bytes);
    return this.#ask(DROP_EVERY_BYTES);
  }

  async close(): Promise<void> {
    await this.#running;
    await this.#ask(PAGE_BYTES);
    this.#libc.symbols.close(this.#fd);
    this.#libc.close();
  }

  /** Starts asking the kernel when at least `least` bytes more than last time may go. */
  #ask(least: number): Promise<void> {
    // #run() awaits before it ends, so it never finishes before it is kept here.
    if (this.#running === undefined && this.#wanted - this.#asked >= least) {
      this.#running = this.#run(least);
    }
    return this.#running ?? Promise.resolve();
  }

  async #run(least: number): Promise<void> {
    try {
      while (this.#wanted - this.#asked >= least) {
        const end = this.#wanted - (this.#wanted % PAGE_BYTES);
        // A hint: when the kernel refuses it, the pages stay cached and nothing else changes.
        await this.#libc.symbols.posix_fadvise(
          this.#fd,
          BigInt(this.#asked),
          BigInt(end - this.#asked),
          POSIX_FADV_DONTNEED,
        );
        this.#asked = end;
      }
    } catch {
      // Only a hint was lost; the next call asks again.
    } finally {
      this.#running = undefined;
    }
  }
}
