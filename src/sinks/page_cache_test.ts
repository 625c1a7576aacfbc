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
async function diskDir(): Promise<string> {
  const type = async (path: string) =>
    new TextDecoder().decode(
      (await new Deno.Command("stat", { args: ["-f", "-c", "%T", path] }).output()).stdout,
    ).trim();
  const base = (await type("/tmp")) === "tmpfs" ? Deno.cwd() : undefined;
  return await Deno.makeTempDir({ dir: base, prefix: ".ingest-page-cache-" });
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
  const sink = await createFileSink(path, pageCache === undefined ? {} : { pageCache });
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
  const dir = await diskDir();
  try {
    const { size, cached } = await appendThrough(undefined, `${dir}/out.jsonl`);
    assert.ok(size > 8_000_000 && size % PAGE !== 0, `size ${size}`);
    assert.ok(cached <= PAGE, `${cached} of ${size} bytes still cached`);
    // The lines are all there, read back from disk.
    const lines = (await Deno.readTextFile(`${dir}/out.jsonl`)).trimEnd().split("\n");
    assert.equal(lines.length, 2048);
    assert.equal(JSON.parse(lines.at(-1)!).id, "1700000000000-2047");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file sink: pageCache keep leaves the lines' pages cached", async () => {
  const dir = await diskDir();
  try {
    const { size, cached } = await appendThrough("keep", `${dir}/out.jsonl`);
    assert.ok(cached > size / 2, `only ${cached} of ${size} bytes cached`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("page cache drop: only the bytes appended after opening count, whole pages only", async () => {
  const dir = await diskDir();
  const path = `${dir}/existing`;
  try {
    // Dirty pages cannot be dropped: each write here is synced, as the sink's are.
    const write = async (bytes: number) => {
      using file = await Deno.open(path, { append: true, create: true });
      await file.write(new Uint8Array(bytes));
      await file.syncData();
    };
    await write(10 * PAGE + 100); // cached, written before
    const drop = await openPageCacheDrop(path);
    assert.ok(drop !== undefined);
    await write(3 * PAGE);
    await drop.synced(100); // 10 pages + 200 bytes: the 10 whole pages may go
    const afterFirst = await cachedBytes(path);
    assert.ok(afterFirst <= 4 * PAGE && afterFirst >= 3 * PAGE, `${afterFirst} cached`);
    await drop.synced(3 * PAGE); // 13 pages + 100 bytes: all but the last partial page
    await drop.close();
    assert.ok((await cachedBytes(path)) <= PAGE);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("page cache drop: nothing for what is not a regular file, nor without FFI permission", async () => {
  const dir = await diskDir();
  try {
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
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
