import assert from "node:assert/strict";
import { createFileSink, type FileSinkPageCache } from "./file_sink.ts";
import { openPageCacheDrop } from "./page_cache.ts";
import type { Delivery } from "./sink.ts";

const PAGE = 4096;

/** Bytes of `path` in the page cache, from util-linux's fincore. */
async function cachedBytes(path: string): Promise<number> {
  const { stdout, success } = await new Deno.Command("fincore", {
    args: ["--bytes", "--noheadings", "--output", "RES", path],
  }).output();
  assert.ok(success, "fincore (util-linux) failed");
  return Number(new TextDecoder().decode(stdout).trim());
}

/**
 * A directory on a disk-backed file system: on tmpfs the page cache is the
 * file's only copy, so nothing can be dropped there.
 */
async function inDiskDir(body: (dir: string) => Promise<void>): Promise<void> {
  const type = async (path: string) =>
    new TextDecoder().decode(
      (await new Deno.Command("stat", { args: ["-f", "-c", "%T", path] }).output()).stdout,
    ).trim();
  const base = (await type("/tmp")) === "tmpfs" ? Deno.cwd() : undefined;
  const dir = await Deno.makeTempDir({ dir: base, prefix: ".ingest-page-cache-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function delivery(n: number, text: string): Delivery {
  const payload = { text } as unknown as Delivery["payload"];
  return {
    id: `1700000000000-${n}`,
    type: "email",
    idempotencyKey: `a@x.test:INBOX:1:${n}`,
    payload,
    payloadJson: JSON.stringify(payload),
    attempt: 1,
    signal: new AbortController().signal,
  };
}

/** Writes 8 MB of lines through a file sink; returns the file's size and its cached bytes. */
async function appendThrough(pageCache: FileSinkPageCache | undefined, path: string) {
  const sink = await createFileSink(path, { pageCache });
  const text = "x".repeat(4000); // not a whole page a line: the file's end falls inside a page
  for (let batch = 0; batch < 16; batch++) {
    await Promise.all(
      Array.from({ length: 128 }, (_, i) => sink.handle(delivery(batch * 128 + i, text))),
    );
  }
  await sink.close();
  return { size: (await Deno.stat(path)).size, cached: await cachedBytes(path) };
}

Deno.test("file sink: by default the synced lines' pages leave the page cache, all but the partial last page", async () => {
  await inDiskDir(async (dir) => {
    const { size, cached } = await appendThrough(undefined, `${dir}/out.jsonl`);
    assert.ok(size > 8_000_000 && size % PAGE !== 0, `size ${size}`);
    assert.ok(cached <= PAGE, `${cached} of ${size} bytes still cached`);
    // The lines are all there, read back from disk.
    const lines = (await Deno.readTextFile(`${dir}/out.jsonl`)).trimEnd().split("\n");
    assert.equal(lines.length, 2048);
    assert.equal(JSON.parse(lines.at(-1)!).id, "1700000000000-2047");
  });
});

Deno.test("file sink: pageCache keep leaves the lines' pages cached", async () => {
  await inDiskDir(async (dir) => {
    const { size, cached } = await appendThrough("keep", `${dir}/out.jsonl`);
    assert.ok(cached > size / 2, `only ${cached} of ${size} bytes cached`);
  });
});

Deno.test("file sink: a group goes out in one write when its pages are dropped, in 1 MiB writes when they stay cached", async () => {
  await inDiskDir(async (dir) => {
    for (const [pageCache, expected] of [["drop", 1], ["keep", 3]] as const) {
      const path = `${dir}/${pageCache}.jsonl`;
      const writes: number[] = [];
      const open = async (at: string) => {
        const file = await Deno.open(at, { append: true, create: true });
        return {
          write: (bytes: Uint8Array) => (writes.push(bytes.length), file.write(bytes)),
          syncData: () => file.syncData(),
          close: () => file.close(),
        };
      };
      await Deno.writeTextFile(path, ""); // a regular file before the sink looks at it
      const sink = await createFileSink(path, { pageCache, open });
      const text = "x".repeat(4000);
      // One turn's lines: one group of about 2.5 MB.
      await Promise.all(Array.from({ length: 640 }, (_, i) => sink.handle(delivery(i, text))));
      await sink.close();
      assert.equal(writes.length, expected, `${pageCache}: writes of ${writes.join(", ")} bytes`);
      assert.equal(writes.reduce((a, b) => a + b, 0), (await Deno.stat(path)).size);
    }
  });
});

Deno.test("page cache drop: the kernel is asked once 8 MiB more are synced, and at close; the bytes before opening count from the file's start; whole pages only", async () => {
  await inDiskDir(async (dir) => {
    const path = `${dir}/existing`;
    // Dirty pages cannot be dropped: each write here is synced, as the sink's are.
    const write = async (bytes: number) => {
      using file = await Deno.open(path, { append: true, create: true });
      await file.write(new Uint8Array(bytes));
      await file.syncData();
    };
    await write(10 * PAGE + 100); // written before the drop opens: cached
    const drop = await openPageCacheDrop(path);
    assert.ok(drop !== undefined);
    await write(3 * PAGE);
    await drop.synced(3 * PAGE); // far from 8 MiB: nothing is asked yet
    assert.ok((await cachedBytes(path)) >= 13 * PAGE, "dropped before 8 MiB were synced");
    const more = 8 * 1024 * 1024;
    await write(more);
    await drop.synced(3 * PAGE + more);
    // Everything up to the last whole page went, the first 10 pages too: had the bytes
    // written before opening not counted, the last 10 pages or so would still be cached.
    const left = await cachedBytes(path);
    assert.ok(left <= PAGE, `${left} bytes still cached`);
    await write(5 * PAGE);
    await drop.synced(3 * PAGE + more + 5 * PAGE); // not 8 MiB more: not asked yet
    assert.ok((await cachedBytes(path)) >= 5 * PAGE);
    await drop.close(); // the rest goes at close, but for the partial last page
    assert.ok((await cachedBytes(path)) <= PAGE);
  });
});

Deno.test("page cache drop: nothing for what is not a regular file, nor without FFI permission", async () => {
  await inDiskDir(async (dir) => {
    assert.equal(await openPageCacheDrop(dir), undefined);
    assert.equal(await openPageCacheDrop(`${dir}/missing`), undefined);
    const fifo = `${dir}/fifo`;
    await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.equal(await openPageCacheDrop(fifo), undefined, "a FIFO is not dropped (nor opened)");
    // A process without --allow-ffi: no prompt, no drop, and the sink still writes.
    const script = `${dir}/no_ffi.ts`;
    await Deno.writeTextFile(
      script,
      `import { openPageCacheDrop } from ${
        JSON.stringify(import.meta.resolve("./page_cache.ts"))
      };\n` +
        `await Deno.writeTextFile(Deno.args[0], "x");\n` +
        `console.log(String(await openPageCacheDrop(Deno.args[0])));\n`,
    );
    const { stdout, success } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read", "--allow-write", script, `${dir}/plain`],
    }).output();
    assert.ok(success);
    assert.equal(new TextDecoder().decode(stdout).trim(), "undefined");
  });
});
