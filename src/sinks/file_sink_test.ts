import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createFileSink } from "./file_sink.ts";
import { type Delivery, deliveryJson } from "./sink.ts";
import { SCHEMA_VERSION } from "../stream/entry.ts";

function delivery(n: number): Delivery {
  return {
    id: `1700000000000-${n}`,
    type: "mailbox_reset",
    idempotencyKey: `a@x.test:INBOX:reset:1:${n}`,
    payload: {
      schema_version: SCHEMA_VERSION,
      account: "a@x.test",
      mailbox: "INBOX",
      previous_uidvalidity: 1,
      uidvalidity: n,
      at: "2026-01-01T00:00:00.000Z",
    },
    attempt: 1,
    signal: new AbortController().signal,
  };
}

/** Delivery `n` with `at` as its payload's text: lines of any size and content. */
function withText(n: number, at: string): Delivery {
  const d = delivery(n);
  return { ...d, payload: { ...d.payload, at } } as Delivery;
}

Deno.test("createFileSink() writes the deliveries of one turn as whole lines, on disk when each resolves", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ingest-file-sink-" });
  const path = `${dir}/out.jsonl`;
  const sink = await createFileSink(path);
  try {
    const lineCount = async () => (await Deno.readTextFile(path)).split("\n").length - 1;
    // One turn: 50 handlers at once (a worker's read batch).
    const first = Array.from({ length: 50 }, (_, i) => sink.handle(delivery(i)));
    assert.equal(await lineCount(), 0, "nothing is written before the turn ends");
    await Promise.all(first);
    assert.equal(await lineCount(), 50, "every line is in the file when its delivery resolves");
    // A later turn, and one arriving while that write is in progress, follow in order.
    const later = sink.handle(delivery(50));
    await new Promise((resolve) => setTimeout(resolve, 0));
    await Promise.all([later, sink.handle(delivery(51))]);
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.id), Array.from({ length: 52 }, (_, i) => delivery(i).id));
    assert.equal(lines[7].payload.uidvalidity, 7);
  } finally {
    await sink.close();
  }
  await assert.rejects(sink.handle(delivery(99)), /is closed/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("createFileSink() writes any text byte for byte: non-ASCII, a 600 KB line, a 5 MB one and a line after it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ingest-file-sink-" });
  const path = `${dir}/out.jsonl`;
  const sink = await createFileSink(path);
  const texts = [
    "plain",
    "é, 日本語, 🙂 and \u2028",
    "ü".repeat(300_000), // 600 KB of UTF-8 in one line
    "z".repeat(5_000_000), // a group of its own, 5 MB
    "after the large one: ø",
  ];
  try {
    await Promise.all(texts.slice(0, 3).map((text, i) => sink.handle(withText(i, text))));
    await sink.handle(withText(3, texts[3]!));
    await sink.handle(withText(4, texts[4]!));
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.payload.at), texts);
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createFileSink() writes deliveries with stored payload text exactly as deliveryJson() gives them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ingest-file-sink-" });
  const path = `${dir}/out.jsonl`;
  const sink = await createFileSink(path);
  // Stored text as a producer wrote it, one with multi-byte characters, one large enough
  // (4 MB of "ü") to take a buffer larger than the one the sink keeps, then a small one again.
  const stored = (n: number, at: string): Delivery => {
    const d = delivery(n);
    const payload = { ...d.payload, at };
    return { ...d, payload, payloadJson: JSON.stringify(payload) } as Delivery;
  };
  const deliveries = [
    stored(0, "plain"),
    stored(1, "é, 日本語, 🙂"),
    stored(2, "ü".repeat(2_000_000)),
    stored(3, "after: ø"),
    delivery(4), // no stored text: serialised again
  ];
  try {
    await Promise.all(deliveries.slice(0, 2).map((d) => sink.handle(d)));
    for (const d of deliveries.slice(2)) await sink.handle(d);
    const expected = new TextEncoder().encode(
      deliveries.map((d) => deliveryJson(d) + "\n").join(""),
    );
    assert.deepEqual(await Deno.readFile(path), expected);
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createFileSink() copies a delivery's stored payload bytes as they are, and writes the text when a line break makes it serialise again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ingest-file-sink-" });
  const path = `${dir}/out.jsonl`;
  const sink = await createFileSink(path);
  const encoder = new TextEncoder();
  const withBytes = (n: number, json: string, bytes: Uint8Array): Delivery => ({
    ...delivery(n),
    payload: JSON.parse(json),
    payloadJson: json,
    payloadBytes: bytes,
  });
  // Bytes that differ from the text show which of the two went out.
  const copied = withBytes(0, '{"at":"text"}', encoder.encode('{"at":"bytes, é"}'));
  const pretty = withBytes(1, '{\n  "at": "text"\n}', encoder.encode('{"at":"bytes"}'));
  try {
    await sink.handle(copied);
    await sink.handle(pretty);
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.payload.at), ["bytes, é", "text"]);
    assert.deepEqual(lines.map((l) => l.id), [copied.id, pretty.id]);
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createFileSink() writes the next group while a sync runs, shares the sync after it among the groups written meanwhile, and resolves each delivery only after a sync begun once its line was written", async () => {
  const events: string[] = [];
  const syncs: (() => void)[] = [];
  let writes = 0;
  const file = {
    write: (bytes: Uint8Array) => {
      events.push(`write ${++writes}`);
      return Promise.resolve(bytes.length);
    },
    syncData: () => {
      events.push(`sync ${syncs.length + 1} begins`);
      return new Promise<void>((resolve) => syncs.push(resolve));
    },
    close: () => {},
  };
  const sink = await createFileSink("watched.jsonl", { open: () => Promise.resolve(file) });
  const turn = () => new Promise((resolve) => setTimeout(resolve, 5));
  const resolved: number[] = [];
  const handle = (n: number) => sink.handle(delivery(n)).then(() => resolved.push(n));

  const first = [handle(1), handle(2)]; // one turn: one write, then its sync
  await turn();
  assert.deepEqual(events, ["write 1", "sync 1 begins"]);
  const second = [handle(3), handle(4)]; // written while sync 1 runs
  await turn();
  const third = [handle(5)];
  await turn();
  assert.deepEqual(events, ["write 1", "sync 1 begins", "write 2", "write 3"], "no sync yet");
  assert.deepEqual(resolved, [], "nothing resolves before its sync ends");

  syncs[0]!();
  await Promise.all(first);
  await turn();
  assert.deepEqual(resolved, [1, 2], "sync 1 covered only the first write");
  assert.deepEqual(events.at(-1), "sync 2 begins", "one sync for the two groups written meanwhile");
  assert.equal(syncs.length, 2);

  syncs[1]!();
  await Promise.all([...second, ...third]);
  assert.deepEqual(resolved, [1, 2, 3, 4, 5]);
  const closing = sink.close();
  await closing;
  assert.equal(syncs.length, 2, "no sync without a line to cover");
});

Deno.test("createFileSink() hands a group larger than 1 MiB to a file whose pages stay cached (here: no real path to drop them from) in writes of at most 1 MiB, in order, and syncs once after them", async () => {
  const written: Uint8Array[] = [];
  const events: string[] = [];
  const file = {
    write: (bytes: Uint8Array) => {
      // A short write on the first call: the rest must follow from where it stopped.
      const taken = written.length === 0 ? 1000 : bytes.length;
      written.push(bytes.slice(0, taken));
      events.push("write");
      return Promise.resolve(taken);
    },
    syncData: () => {
      events.push("sync");
      return Promise.resolve();
    },
    close: () => {},
  };
  const sink = await createFileSink("watched.jsonl", { open: () => Promise.resolve(file) });
  const big = (n: number) => withText(n, String(n).repeat(900_000));
  await Promise.all([0, 1, 2].map((n) => sink.handle(big(n)))); // one turn: one 2.7 MB group
  await sink.close();
  assert.ok(written.every((bytes) => bytes.length <= 1024 * 1024), "no write above 1 MiB");
  assert.ok(written.length >= 4, `a 2.7 MB group takes several writes, saw ${written.length}`);
  assert.deepEqual(events.filter((e) => e === "sync"), ["sync"], "one sync covers the group");
  assert.equal(events.at(-1), "sync", "the sync follows the last write");
  const text = Buffer.concat(written).toString("utf8");
  assert.deepEqual(text, [0, 1, 2].map((n) => deliveryJson(big(n)) + "\n").join(""));
});
