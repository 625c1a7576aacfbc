/**
 * The FETCH row reader against imapflow's own parser as the oracle: seeded
 * random rows of the producer's two query shapes (BODYSTRUCTURE trees with
 * quoted, escaped, 8-bit and RFC 2231 parameters, NIL anywhere, literals
 * where strings may be, Gmail's X-GM-* items), each read by both and
 * compared; then the same rows damaged, where our reader must never throw or
 * hang and, when both read a row, must agree. On failure the message names
 * the seed and case to replay with `FUZZ_SEED=<seed> FUZZ_CASES=<case + 1>`.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { FetchMessageObject, ImapFlow } from "imapflow";
import parser from "imapflow/lib/handler/imap-parser.js";
import { formatMessageResponse } from "imapflow/lib/tools.js";
import { int, mutate, pick, random, type Rng } from "../../tests/harness/fuzz.ts";
import { type FetchRow, readFetchRow } from "./fetch_rows.ts";
import { BAD, MAX_DEPTH, readFetchResponse } from "./fetch_tokens.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261202);
const CASES = Number(Deno.env.get("FUZZ_CASES") ?? 1500);
const CONNECTION = { enabled: new Set<string>(), capabilities: new Map<string, boolean>() };
const MAILBOX = { path: "INBOX", uidValidity: 7n };

/** A response as imapflow's line reader splits it: text with `{n}` markers, literals apart. */
class Wire {
  readonly #text: string[] = [];
  readonly literals: Buffer[] = [];
  add(text: string): this {
    this.#text.push(text);
    return this;
  }
  literal(bytes: Uint8Array): this {
    this.#text.push(`{${bytes.length}}\r\n`);
    this.literals.push(Buffer.from(bytes));
    return this;
  }
  get payload(): Buffer {
    return Buffer.from(this.#text.join(""), "utf8");
  }
}

const CHARS = [
  "a",
  "Z",
  "0",
  " ",
  '"',
  "\\",
  "(",
  ")",
  "{",
  "}",
  "[",
  "]",
  "é",
  "€",
  "'",
  "%",
  "*",
];
const WORDS = ["plain", "utf-8", "report.pdf", "=?utf-8?q?R=C3=A9sum=C3=A9?=", "a b", ""];

function quoted(rng: Rng): string {
  const text = int(rng, 3) === 0
    ? pick(rng, WORDS)
    : Array.from({ length: int(rng, 12) }, () => pick(rng, CHARS)).join("");
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** An nstring: NIL, a quoted string or a literal. */
function nstring(rng: Rng, wire: Wire): void {
  const kind = int(rng, 6);
  if (kind === 0) wire.add("NIL");
  else if (kind === 1) wire.literal(new TextEncoder().encode(pick(rng, WORDS) + "\r\nx"));
  else wire.add(quoted(rng));
}

function params(rng: Rng, wire: Wire): void {
  if (int(rng, 6) === 0) return void wire.add(pick(rng, ["NIL", '"lone"']));
  const pairs: Array<() => void> = [
    () => wire.add(`"CHARSET" ${pick(rng, ['"utf-8"', '"ISO-8859-1"', "NIL", "utf-8"])}`),
    () => (wire.add('"name" '), nstring(rng, wire)),
    () => wire.add(`"filename*0*" "utf-8''%E2%82%AC%20" "filename*1" "rate.pdf"`),
    () => wire.add(`"filename*" "iso-8859-1'en'caf%E9.txt"`),
    () => wire.add(`"filename" "utf-8''na%C3%AFve.txt"`),
    () => wire.add(`"filename" "it's.txt"`),
    () => wire.add('"title" "=?utf-8?B?w6k=?= =?utf-8?B?w6k=?="'),
    () => wire.add('"__proto__" "x"'),
    () => (wire.add('"boundary" '), wire.add(quoted(rng))),
    () => wire.add('"format" flowed'),
    () => wire.add('"dangling"'),
    () => wire.add('("nested") "x"'),
  ];
  wire.add("(");
  pairs.filter(() => rng() < 0.3).forEach((pair, n) => {
    if (n > 0) wire.add(" ");
    pair();
  });
  wire.add(")");
}

function address(rng: Rng, wire: Wire): void {
  if (int(rng, 3) === 0) return void wire.add("NIL");
  wire.add("((");
  nstring(rng, wire);
  wire.add(` NIL "user${int(rng, 9)}" "example.test"))`);
}

function envelope(rng: Rng, wire: Wire): void {
  wire.add('("Mon, 1 Dec 2026 10:00:00 +0000" ');
  nstring(rng, wire);
  for (let i = 0; i < 6; i++) {
    wire.add(" ");
    address(rng, wire);
  }
  wire.add(" NIL ");
  nstring(rng, wire);
  wire.add(")");
}

function extension(rng: Rng, wire: Wire, fields: number): void {
  const all = [
    () => wire.add(int(rng, 2) ? "NIL" : `"d41d8cd98f00b204e9800998ecf8427e"`),
    () => {
      if (int(rng, 3) === 0) return void wire.add("NIL");
      wire.add(`(${pick(rng, ['"attachment"', '"inline"', '"ATTACHMENT"'])} `);
      params(rng, wire);
      wire.add(")");
    },
    () => wire.add(pick(rng, ["NIL", '"en"', '("en" "DE")', '("en" ("x"))'])),
    () => wire.add(pick(rng, ["NIL", '"http://example.test/x"'])),
  ];
  for (const field of all.slice(0, fields)) {
    wire.add(" ");
    field();
  }
}

function bodyNode(rng: Rng, wire: Wire, depth: number): void {
  const kind = depth > 4 ? 0 : int(rng, 5);
  if (kind === 4) {
    wire.add("(");
    for (let i = 0; i < 1 + int(rng, 3); i++) {
      if (i > 0 && rng() < 0.5) wire.add(" ");
      bodyNode(rng, wire, depth + 1);
    }
    wire.add(` ${pick(rng, ['"mixed"', '"alternative"', '"RELATED"'])} `);
    params(rng, wire);
    extension(rng, wire, int(rng, 4));
    return void wire.add(")");
  }
  if (int(rng, 12) === 0) {
    // A text part without its line count (servers that leave it out): imapflow's 11-field quirk.
    return void wire.add(
      `("text" "plain" NIL NIL NIL "7bit" 12 NIL ("attachment" ("filename" "a.txt")) NIL NIL)`,
    );
  }
  const [type, subtype] = pick(rng, [
    ['"text"', '"plain"'],
    ['"TEXT"', '"html"'],
    ['"application"', '"pdf"'],
    ['"image"', '"png"'],
    ['"message"', '"rfc822"'],
  ]);
  wire.add(`(${type} ${subtype} `);
  params(rng, wire);
  wire.add(` ${pick(rng, ["NIL", '"<c1@example.test>"'])} `);
  nstring(rng, wire);
  wire.add(` ${pick(rng, ['"7bit"', '"BASE64"', '"quoted-printable"', "NIL"])} ${int(rng, 99999)}`);
  if (subtype === '"rfc822"' && depth < 4) {
    wire.add(" ");
    envelope(rng, wire);
    wire.add(" ");
    bodyNode(rng, wire, depth + 1);
    wire.add(` ${int(rng, 500)}`);
  } else if (type.toLowerCase() === '"text"') wire.add(` ${int(rng, 500)}`);
  extension(rng, wire, int(rng, 5));
  wire.add(")");
}

const LABELS = ['"\\\\Inbox"', '"\\\\Important"', '"[Gmail]/Sent Mail"', "&AOQ-bc", "Work", '""'];
const FLAGS = ["\\Seen", "\\Answered", "\\Flagged", "$Label1", "Junk", "\\Recent"];

/** One random row of phase 1 or phase 2. */
function row(rng: Rng): Wire {
  const wire = new Wire().add(`* ${1 + int(rng, 9999)} FETCH (`);
  const items: Array<() => void> = [
    () => wire.add(`UID ${1 + int(rng, 4_000_000_000)}`),
    () => wire.add(`FLAGS (${FLAGS.filter(() => rng() < 0.3).join(" ")})`),
    () => wire.add(`RFC822.SIZE ${int(rng, 50_000_000)}`),
    () => wire.add(`INTERNALDATE ${pick(rng, ['"02-Dec-2026 01:15:47 +0000"', '"not a date"'])}`),
    () => wire.add(`MODSEQ (${1 + int(rng, 99999)})`),
    () => wire.add(`X-GM-MSGID 17${int(rng, 1e9)}${int(rng, 1e9)}`),
    () => wire.add(`X-GM-THRID ${int(rng, 1e9)}`),
    () => wire.add(`X-GM-LABELS (${LABELS.filter(() => rng() < 0.4).join(" ")})`),
    () => (wire.add("BODYSTRUCTURE "), bodyNode(rng, wire, 0)),
    () => (wire.add("BODY[HEADER] "), nstring(rng, wire)),
    () => (wire.add(`BODY[${pick(rng, ["1", "2", "1.2", "3.1.1"])}]<0> `), nstring(rng, wire)),
  ];
  const order = [0, ...items.keys()].filter((i) => i === 0 || rng() < 0.6).slice(0, 12);
  order.sort(() => rng() - 0.5);
  order.forEach((index, n) => {
    if (n > 0) wire.add(" ");
    items[index]!();
  });
  return wire.add(")");
}

/** What the producer uses of a row, comparable with deepEqual. */
function view(row: FetchRow | FetchMessageObject) {
  return {
    seq: row.seq,
    uid: row.uid,
    flags: row.flags && [...row.flags],
    size: row.size,
    internalDate: row.internalDate,
    bodyStructure: row.bodyStructure,
    headers: row.headers && [...row.headers],
    bodyParts: row.bodyParts && [...row.bodyParts].map(([k, v]) => [k, v ? [...v] : undefined]),
    emailId: row.emailId,
    threadId: row.threadId,
    labels: row.labels && [...row.labels],
    modseq: row.modseq,
  };
}

/** imapflow's reading of the same row, or `undefined` when its parser rejects it. */
async function oracle(payload: Buffer, literals: Buffer[]) {
  let parsed;
  try {
    parsed = await parser(payload, { literals: [...literals] });
  } catch {
    return undefined;
  }
  const connection = CONNECTION as unknown as ImapFlow;
  const row = await formatMessageResponse(parsed, MAILBOX as never, undefined, connection);
  // imapflow keeps a NIL section as `false`; the producer reads both as "absent".
  if (row.headers === (false as unknown)) delete row.headers;
  row.bodyParts?.forEach((value, key) => value || row.bodyParts!.delete(key));
  if (row.bodyParts?.size === 0) delete row.bodyParts;
  return row;
}

function read(payload: Uint8Array, literals: Uint8Array[]) {
  return readFetchRow(payload, literals, CONNECTION as unknown as ImapFlow);
}

Deno.test("readFetchRow() reads random producer rows exactly as imapflow does", async () => {
  const rng = random(SEED);
  for (let n = 0; n < CASES; n++) {
    const wire = row(rng);
    const where = `seed ${SEED} case ${n}: ${wire.payload.toString().slice(0, 300)}`;
    const ours = read(wire.payload, wire.literals);
    assert.ok(ours, `our reader gave up on a well-formed row (${where})`);
    const theirs = await oracle(wire.payload, wire.literals);
    assert.ok(theirs, `imapflow rejected a generated row (${where})`);
    assert.deepEqual(view(ours), view(theirs), where);
  }
});

Deno.test("readFetchRow() never throws or hangs on damaged rows, and agrees when both read", async () => {
  const rng = random(SEED + 1);
  let agreed = 0;
  for (let n = 0; n < CASES; n++) {
    const wire = row(rng);
    const payload = mutate(rng, wire.payload);
    const literals = rng() < 0.2 ? wire.literals.slice(1) : wire.literals;
    const where = `seed ${SEED + 1} case ${n}`;
    const started = performance.now();
    const ours = read(payload, literals);
    assert.ok(performance.now() - started < 1_000, `slow on damaged input (${where})`);
    if (!ours) continue;
    const theirs = await oracle(Buffer.from(payload), literals);
    if (!theirs || !theirs.uid) continue;
    assert.deepEqual(view(ours), view(theirs), where);
    agreed++;
  }
  assert.ok(agreed > CASES / 10, `only ${agreed} damaged rows were read by both`);
});

Deno.test("the tokenizer refuses what it cannot read with certainty, without throwing", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const literal = (text: string) => [Buffer.from(text)];
  const refused: Array<[string, Uint8Array[]]> = [
    ["* 1 FETCH (UID 5 BODY[HEADER] {3}\r\n)", []], // marker without its literal
    ["* 1 FETCH (UID 5)", literal("abc")], // a literal left over
    ["* 1 FETCH (UID 5 BODY[HEADER] {4}\r\n)", literal("abc")], // wrong length
    ["* 1 FETCH (UID 5 FLAGS (\\Seen)", []], // unclosed
    ['* 1 FETCH (UID 5 BODY[1] "unterminated)', []],
    ["* 1 FETCH (UID 5 " + "BODYSTRUCTURE " + "(".repeat(100_000), []], // deep nesting
    [`* 1 FETCH (UID 5 X-GM-LABELS (${"(".repeat(MAX_DEPTH + 1)}`, []],
    ["* 1 FETCH (UID 5 ENVELOPE NIL)", []], // an item it does not know: imapflow's
    ["* 1 FETCH (UID 5 BINARY[1] {1}\r\n)", literal("a")],
    ["* 1 FETCH (FLAGS (\\Seen))", []], // no UID: an unsolicited flag change
    ["* 3 EXISTS", []],
    ["", []],
  ];
  for (const [text, literals] of refused) {
    assert.equal(read(bytes(text), literals), undefined, text.slice(0, 80));
  }
  assert.equal(readFetchResponse(bytes("* 1 FETCH " + "(".repeat(100_000)), []), BAD);
});

Deno.test("quoted strings, NIL, literals and Gmail labels read as imapflow reads them", async () => {
  const wire = new Wire()
    .add('* 12 FETCH (UID 34 X-GM-LABELS ("\\\\Inbox" "[Gmail]/Sent Mail" &AOQ-bc Work) ')
    .add("X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 FLAGS () ")
    .add('BODY[1]<0> "say \\"hi\\" \\\\ there" BODY[2]<0> NIL BODY[HEADER] ')
    .literal(new TextEncoder().encode("Subject: ü\r\n\r\n"))
    .add(")");
  const ours = read(wire.payload, wire.literals)!;
  assert.deepEqual([...ours.labels!], ["\\Inbox", "[Gmail]/Sent Mail", "äbc", "Work"]);
  assert.equal(ours.emailId, "1278455344230334865");
  assert.equal(ours.bodyParts!.get("1")!.toString(), 'say "hi" \\ there');
  assert.equal(ours.bodyParts!.has("2"), false);
  assert.equal(ours.headers!.toString(), "Subject: ü\r\n\r\n");
  assert.deepEqual(view(ours), view((await oracle(wire.payload, wire.literals))!));
});
