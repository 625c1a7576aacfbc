/**
 * Our response framing against imapflow's own, on imapflow's real
 * `ImapStream`: the same bytes, cut into chunks at random places, must give
 * the same responses in the same order, and the same failures at the size
 * limits.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { ImapFlow } from "imapflow";
import { ImapStream } from "imapflow/lib/handler/imap-stream.js";
import {
  type FramedResponse,
  hasResponseFraming,
  installResponseFraming,
  type ResponseTaker,
} from "./response_framing.ts";

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

/** What a response is, comparable with deepEqual. */
interface Seen {
  via: "imapflow" | "taken";
  payload: string;
  literals: string[];
  trailingAfterLine?: boolean;
}

interface Limits {
  maxLineLength?: number;
  maxLiteralSize?: number;
  maxResponseSize?: number;
}

/** Feeds `chunks` to a real ImapStream (framed by us when `take` is given); what came out. */
async function frame(
  chunks: Uint8Array[],
  take?: ResponseTaker,
  limits: Limits = {},
): Promise<{ seen: Seen[]; error?: string; literals: Uint8Array[] }> {
  const stream = new ImapStream({ logger: false, ...limits });
  const seen: Seen[] = [];
  const literals: Uint8Array[] = [];
  if (take) {
    const client = { streamer: stream } as unknown as ImapFlow;
    assert.equal(
      installResponseFraming(client, (response) => {
        if (!take(response)) return false;
        literals.push(...response.literals);
        seen.push({ via: "taken", ...text(response) });
        return true;
      }),
      true,
    );
    assert.equal(hasResponseFraming(client), true);
  }
  const done = new Promise<string | undefined>((resolve) => {
    stream.on("error", (error: { code?: string }) => resolve(error.code ?? "error"));
    stream.on("end", () => resolve(undefined));
  });
  stream.on("readable", () => {
    let item;
    while ((item = stream.read()) !== null) {
      literals.push(...item.literals);
      seen.push({ via: "imapflow", ...text(item), trailingAfterLine: item.trailingAfterLine });
      // imapflow's reader releases each response after handling it.
      setTimeout(item.next, 0);
    }
  });
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  return { seen, error: await done, literals };
}

function text(response: FramedResponse) {
  return { payload: latin1(response.payload), literals: response.literals.map(latin1) };
}

/** `bytes` cut at `cuts` random places (with `seed`), each piece a fresh buffer as a socket gives. */
function cut(bytes: Uint8Array, cuts: number, seed: number): Uint8Array[] {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const at = [...new Set(Array.from({ length: cuts }, () => Math.floor(random() * bytes.length)))]
    .sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (to > from) pieces.push(Buffer.from(bytes.subarray(from, to)));
    from = to;
  }
  return pieces;
}

const CONVERSATION = Buffer.from(
  [
    "* OK [CAPABILITY IMAP4rev1] ready\r\n",
    "* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[HEADER] {25}\r\nSubject: a\r\n{3}\r\nX: b\r\n\r\n)\r\n",
    "* 2 FETCH (UID 8 BODY[1]<0> {0}\r\n BODY[2] {10}\r\n\r\n\r\n)\r\n)\r\n)\r\n",
    "\r\n",
    "* 3 EXISTS\n",
    "* 4 FETCH (UID 9 BODY[1] {5}\r\n\xe9\xe8\x00\r\n BODY[2] {2}\r\n\r\n)\r\n",
    "A1 OK FETCH done\r\n",
    "* 5 FETCH (UID 10 BODY[1] {40}\r\n" + "x".repeat(38) + "\r\n)\r\n",
    "A2 OK done\r\n",
  ].join(""),
  "latin1",
);

/** Takes the rows a row reader would: untagged, numbered, FETCH. */
const takeFetchRows: ResponseTaker = (response) => /^\* \d+ FETCH/.test(latin1(response.payload));

Deno.test("our framing gives imapflow the responses its own framing gives, wherever the chunks are cut", async () => {
  const whole = await frame([Buffer.from(CONVERSATION)]);
  assert.equal(whole.error, undefined);
  assert.deepEqual(whole.seen.map((seen) => seen.payload.slice(0, 9)), [
    "* OK [CAP",
    "* 1 FETCH",
    "* 2 FETCH",
    "* 3 EXIST",
    "* 4 FETCH",
    "A1 OK FET",
    "* 5 FETCH",
    "A2 OK don",
  ]);
  for (let seed = 1; seed <= 60; seed++) {
    const chunks = cut(CONVERSATION, seed % 7 === 0 ? CONVERSATION.length : seed % 20, seed);
    const theirs = await frame(chunks);
    const ours = await frame(chunks.map((chunk) => Buffer.from(chunk)), () => false);
    assert.deepEqual(ours, theirs, `seed ${seed}`);
    assert.deepEqual(
      theirs.seen.map(({ payload, literals }) => ({ payload, literals })),
      whole.seen.map(({ payload, literals }) => ({ payload, literals })),
    );
  }
});

Deno.test("responses the taker takes skip imapflow's stream and keep their place in the order", async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const chunks = cut(CONVERSATION, seed % 12, seed);
    const theirs = await frame(chunks);
    const ours = await frame(chunks.map((chunk) => Buffer.from(chunk)), takeFetchRows);
    const shape = ({ payload, literals }: Seen) => ({ payload, literals });
    assert.deepEqual(ours.seen.map(shape), theirs.seen.map(shape), `seed ${seed}`);
    assert.deepEqual(
      ours.seen.map((seen) => seen.via),
      theirs.seen.map((seen) => /^\* \d+ FETCH/.test(seen.payload) ? "taken" : "imapflow"),
    );
  }
});

Deno.test("a literal whole in one chunk is a view of it, one spread over chunks is joined", async () => {
  const chunk = Buffer.from("* 1 FETCH (BODY[1] {5}\r\nhello BODY[2] {6}\r\nwor", "latin1");
  const rest = Buffer.from("ld!)\r\n", "latin1");
  const ours = await frame([chunk, rest], () => false);
  assert.deepEqual(ours.seen.map((seen) => seen.literals), [["hello", "world!"]]);
  const [hello, world] = ours.literals;
  assert.equal(hello!.buffer, chunk.buffer);
  assert.notEqual(world!.buffer, chunk.buffer);
  assert.notEqual(world!.buffer, rest.buffer);
});

Deno.test("our framing fails at imapflow's line, literal and response limits as imapflow does", async () => {
  const cases: [Limits, string, string][] = [
    [{ maxLineLength: 40 }, "* OK " + "a".repeat(60) + "\r\n", "LineTooLarge"],
    [{ maxLineLength: 40 }, "* OK " + "a".repeat(60), "LineTooLarge"],
    [{ maxLiteralSize: 10 }, "* 1 FETCH (BODY[1] {11}\r\nhello world)\r\n", "LiteralTooLarge"],
    [
      { maxResponseSize: 60 },
      "* 1 FETCH (BODY[1] {20}\r\n" + "b".repeat(20) + " BODY[2] {20}\r\n" + "c".repeat(20) +
      ")\r\n",
      "ResponseTooLarge",
    ],
    [
      { maxResponseSize: 30 },
      "* 1 FETCH (BODY[1] {3}\r\nabc " + "d".repeat(40),
      "ResponseTooLarge",
    ],
  ];
  for (const [limits, input, code] of cases) {
    for (let seed = 1; seed <= 8; seed++) {
      const chunks = cut(Buffer.from("* OK hi\r\n" + input, "latin1"), seed % 5, seed);
      const theirs = await frame(chunks, undefined, limits);
      const ours = await frame(chunks.map((chunk) => Buffer.from(chunk)), () => false, limits);
      assert.equal(theirs.error, code, `imapflow, ${code}, seed ${seed}`);
      assert.deepEqual(ours, theirs, `${code}, seed ${seed}`);
    }
  }
});

Deno.test("installResponseFraming() leaves a stream it does not know alone", () => {
  const stream = new ImapStream({ logger: false });
  const stranger = { streamer: { processInputChunk: stream.processInputChunk } };
  assert.equal(installResponseFraming(stranger as unknown as ImapFlow, () => false), false);
  assert.equal(hasResponseFraming(stranger as unknown as ImapFlow), false);
  assert.equal(installResponseFraming({} as ImapFlow, () => false), false);
});
