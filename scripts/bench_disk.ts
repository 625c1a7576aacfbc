/**
 * What a durable append costs this machine: the CPU of writing `--mb` MB to
 * a new file in groups of `--group-kb` KB with an fdatasync after each group,
 * as the file sink does, measured as this process's CPU (user + sys, from
 * `process.cpuUsage()`: the writes and syncs run on its main thread, with
 * nothing else running meanwhile), in three conditions:
 *
 * 1. **fresh memory**: every file is kept until the end and written after a
 *    pause of `--pause-s` seconds, so its page cache takes memory the
 *    kernel had not used for a while (on a VM with free page reporting,
 *    Linux hands memory that stayed free for 2 s back to the host);
 * 2. **fresh memory, pages dropped**: the same, but the synced pages are
 *    dropped from the page cache as the file sink does by default (every 8
 *    MiB, `src/sinks/page_cache.ts`; needs `-A` or `--allow-ffi`, else this
 *    row is left out), so the next groups take the pages just freed;
 * 3. **recycled memory** (the reference): two files of the same size are
 *    written and deleted just before, so their page cache pages are freed
 *    and taken again at once, as on a host whose memory is in use.
 *
 * On an ordinary host the two are alike. On a VM whose balloon hands freed
 * memory back to the host (virtio-balloon free page reporting, as on the
 * Firecracker build machines here), a page the guest takes anew costs a host
 * fault, and condition 1 costs several times condition 2 (here 2.7–3.2
 * against 0.6–0.9 ms of CPU per MB, 3.4–4.4×, in three runs on 2026-12-03:
 * 9–11 against 2–3 µs for a 3.5 KB line): that cost is the machine's, and
 * `scripts/bench_worker.ts` shows it in its "I/O" thread column; condition 2
 * shows how much of it the file sink avoids by dropping its synced pages.
 * Prints, per condition, the median of `--rounds` rounds: CPU ms per MB for
 * the writes and for the syncs (the drops counted with the syncs), wall
 * MB/s, and the ratio to recycled; then the peak RSS of this process.
 *
 *   deno run -A scripts/bench_disk.ts [--mb 70] [--group-kb 900] [--write-kb N] [--rounds 3]
 *     [--pause-s 5] [--dir DIR]  (default: the system's temporary directory)
 *
 * `--write-kb N` writes each group in writes of at most N KB, as the file
 * sink does (1024); without it a group is one write. Compare
 * `--group-kb 6400` with `--group-kb 6400 --write-kb 1024`: on the build
 * machine of 2026-12-04 (an Intel Xeon), in two alternated pairs
 * (`--rounds 3 --pause-s 1`), one 6.4 MB write cost 0.68 and 1.03 ms of CPU
 * per MB on fresh memory against 0.34 and 0.33 for 1 MB writes, the syncs
 * 0.04–0.06 of it; on recycled memory all cost 0.30.
 *
 * @module
 */

import process from "node:process";
import { openPageCacheDrop, type PageCacheDrop } from "../src/sinks/page_cache.ts";
import { scriptOptions } from "./script_options.ts";
import { median } from "./bench_stats.ts";

const values = scriptOptions(import.meta.filename!, {
  mb: { type: "string", default: "70" },
  "group-kb": { type: "string", default: "900" },
  "write-kb": { type: "string" },
  rounds: { type: "string", default: "3" },
  "pause-s": { type: "string", default: "5" },
  dir: { type: "string" },
});
const megabytes = Number(values.mb);
const groupBytes = Number(values["group-kb"]) * 1024;
const writeBytes = values["write-kb"] === undefined
  ? groupBytes
  : Number(values["write-kb"]) * 1024;
const rounds = Number(values.rounds);
const pauseMs = Number(values["pause-s"]) * 1000;
const problems = [
  ...(Number.isInteger(megabytes) && megabytes > 0 ? [] : ["--mb takes a whole number above 0"]),
  ...(groupBytes > 0 ? [] : ["--group-kb takes a number above 0"]),
  ...(writeBytes > 0 ? [] : ["--write-kb takes a number above 0"]),
  ...(Number.isInteger(rounds) && rounds > 0 ? [] : ["--rounds takes a whole number above 0"]),
  ...(pauseMs >= 0 ? [] : ["--pause-s takes a number of seconds, 0 or more"]),
];
if (problems.length > 0) {
  console.error(problems.join("\n"));
  Deno.exit(2);
}

/**
 * CPU ms this process has run so far (user + sys). Not the thread's
 * /proc/thread-self/schedstat: Linux brings that up to date only at a tick or
 * a context switch, so it charged much of a write's CPU to the fdatasync
 * after it (on 2026-12-04, 70 writes of 1 MB: 9.7 ms of write and 19.4 of
 * sync against 20.8 and 8.3 from `process.cpuUsage()`).
 */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** One file's write: CPU ms of the writes and of the syncs, wall ms. */
interface Append {
  writeMs: number;
  syncMs: number;
  wallMs: number;
}

const group = new Uint8Array(groupBytes).fill(0x78);
const totalBytes = megabytes * 1024 * 1024;

/**
 * Writes a new `path` of `--mb` MB, a group at a time, each group synced
 * and, with `dropPages`, its pages then dropped from the page cache.
 */
async function append(path: string, dropPages = false): Promise<Append> {
  const file = Deno.openSync(path, { create: true, append: true });
  let pages: PageCacheDrop | undefined;
  if (dropPages) {
    pages = await openPageCacheDrop(path);
    if (pages === undefined) throw new Error("cannot drop pages here (Linux and --allow-ffi)");
  }
  const result = { writeMs: 0, syncMs: 0, wallMs: 0 };
  const started = performance.now();
  try {
    for (let written = 0; written < totalBytes;) {
      const before = cpuMs();
      for (let offset = 0; offset < group.length;) {
        offset += file.writeSync(group.subarray(offset, offset + writeBytes));
      }
      written += group.length;
      const afterWrite = cpuMs();
      file.syncDataSync();
      await pages?.synced(written);
      result.writeMs += afterWrite - before;
      result.syncMs += cpuMs() - afterWrite;
    }
  } finally {
    await pages?.close();
    file.close();
  }
  result.wallMs = performance.now() - started;
  return result;
}

/** Whether this process may drop pages (Linux, FFI allowed): else condition 2 is left out. */
async function canDropPages(): Promise<boolean> {
  const probe = `${dir}/probe`;
  Deno.writeFileSync(probe, new Uint8Array(1));
  const pages = await openPageCacheDrop(probe);
  await pages?.close();
  Deno.removeSync(probe);
  return pages !== undefined;
}

const dir = await Deno.makeTempDir({ dir: values.dir, prefix: "ingest-bench-disk-" });
try {
  const dropping = await canDropPages();
  const fresh: Append[] = [];
  const dropped: Append[] = [];
  const recycled: Append[] = [];
  const pause = () => new Promise((resolve) => setTimeout(resolve, pauseMs));
  for (let round = 0; round < rounds; round++) {
    await pause();
    fresh.push(await append(`${dir}/kept-${round}`));
    if (dropping) {
      await pause();
      dropped.push(await append(`${dir}/dropped-${round}`, true));
    }
    const reused = `${dir}/reused`;
    for (let warmUp = 0; warmUp < 2; warmUp++) {
      await append(reused);
      Deno.removeSync(reused);
    }
    recycled.push(await append(reused));
    Deno.removeSync(reused);
  }
  const perMb = (list: Append[], pick: (a: Append) => number) => median(list.map(pick)) / megabytes;
  console.log(
    `${megabytes} MB in ${values["group-kb"]} KB groups` +
      (values["write-kb"] === undefined ? "" : ` written ${values["write-kb"]} KB at a time`) +
      ", fdatasync after each; " +
      `median of ${rounds} rounds (${values["pause-s"]} s pause before each fresh one); ` +
      "CPU of this process",
  );
  const rows = [
    ["fresh memory", fresh],
    ["fresh, dropped", dropped],
    ["recycled memory", recycled],
  ] as const;
  if (!dropping) console.log('(pages cannot be dropped here: no "fresh, dropped" row)');
  for (const [label, list] of rows) {
    if (list.length === 0) continue;
    const cpu = perMb(list, (a) => a.writeMs + a.syncMs);
    const reference = perMb(recycled, (a) => a.writeMs + a.syncMs);
    console.log(
      `${label.padEnd(16)} CPU ${cpu.toFixed(2)} ms/MB (write ${
        perMb(list, (a) => a.writeMs).toFixed(2)
      }, fdatasync ${perMb(list, (a) => a.syncMs).toFixed(2)})  ` +
        `${(megabytes / (median(list.map((a) => a.wallMs)) / 1000)).toFixed(0)} MB/s  ` +
        `${(cpu / reference).toFixed(2)}× the recycled CPU`,
    );
  }
  const peak = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+)/)?.[1];
  console.log(
    `peak RSS ${peak === undefined ? "unknown" : `${Math.round(Number(peak) / 1024)} MB`}`,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
