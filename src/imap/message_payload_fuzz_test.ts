/**
 * Seeded mutation fuzzing of the producer's message decoding: header blocks,
 * text parts, encodings, charsets, envelopes and BODYSTRUCTURE trees taken
 * from realistic messages and then damaged (bit flips, truncation, garbage,
 * huge lines, deep nesting). Every case must give a well-formed payload:
 * `buildEmailPayload` never throws, never hangs, and never emits anything a
 * worker could not read. On failure the message names the seed and case to
 * replay with `FUZZ_SEED=<seed> FUZZ_CASES=<case + 1>`.
 */

import assert from "node:assert/strict";
import { SCHEMA_VERSION } from "../stream/entry.ts";
import { GARBAGE, int, mutate, pick, random, type Rng } from "../../tests/harness/fuzz.ts";
import { realisticMessage } from "../../tests/harness/mail.ts";
import { loadHtmlToText } from "./html_text.ts";
import { buildEmailPayload, type FetchedMessage } from "./message_payload.ts";
import { type BodyNode, planBody } from "./structure.ts";

// The producer loads html-to-text before it builds an HTML-only payload; so does the fuzzer.
await loadHtmlToText();

const ENCODINGS = [
  "7bit",
  "8bit",
  "base64",
  "quoted-printable",
  "binary",
  "x-uuencode",
  "",
  "BASE64",
];
const CHARSETS = [
  "utf-8",
  "iso-8859-1",
  "windows-1252",
  "koi8-r",
  "shift_jis",
  "gb2312",
  "utf-16",
  "x-unknown-charset",
  "",
  "\u0000",
];
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261124);
const CASES = Number(Deno.env.get("FUZZ_CASES") ?? 2000);

function splitMessage(raw: Uint8Array): { headers: Uint8Array; body: Uint8Array } {
  const text = new TextDecoder("latin1").decode(raw);
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return { headers: raw, body: new Uint8Array() };
  return { headers: raw.slice(0, end + 2), body: raw.slice(end + 4) };
}

function randomStructure(rng: Rng, depth: number): BodyNode {
  if (depth < 60 && rng() < (depth === 0 ? 0.7 : 0.35)) {
    return {
      type: pick(rng, [
        "multipart/mixed",
        "multipart/alternative",
        "multipart/related",
        "MULTIPART/X",
      ]),
      childNodes: Array.from({ length: int(rng, 4) }, () => randomStructure(rng, depth + 1)),
    };
  }
  return {
    part: rng() < 0.9 ? `${1 + int(rng, 9)}.${1 + int(rng, 9)}` : undefined,
    type: pick(rng, ["text/plain", "text/html", "image/png", "application/pdf", "", "TEXT/PLAIN"]),
    parameters: rng() < 0.8
      ? { charset: pick(rng, CHARSETS), name: pick(rng, ["a.pdf", "=?utf-8?B?w6k=?=", ""]) }
      : undefined,
    encoding: pick(rng, ENCODINGS),
    size: rng() < 0.9 ? int(rng, 5_000_000) : undefined,
    disposition: pick(rng, [undefined, "attachment", "inline", "ATTACHMENT", ""]),
    dispositionParameters: rng() < 0.5 ? { filename: pick(rng, GARBAGE) } : undefined,
  };
}

async function fuzzCase(rng: Rng, index: number): Promise<FetchedMessage> {
  const { headers, body } = splitMessage(await realisticMessage(index % 40));
  const structure = randomStructure(rng, 0);
  const plan = planBody(structure);
  const part = (ref: typeof plan.text) =>
    ref === null ? undefined : { part: ref, bytes: mutate(rng, body), truncated: rng() < 0.3 };
  return {
    uid: 1 + index,
    size: int(rng, 60_000_000),
    flags: rng() < 0.5 ? ["\\Seen", pick(rng, GARBAGE)] : [],
    internalDate: pick(rng, [new Date(int(rng, 4e12)), "not a date", undefined, "2024-02-30"]),
    envelope: rng() < 0.8
      ? {
        date: pick(rng, [new Date(NaN), "garbage", undefined]),
        subject: pick(rng, [...GARBAGE, undefined]),
        messageId: pick(rng, ["<a@b>", "", undefined, pick(rng, GARBAGE)]),
        from: rng() < 0.5 ? [{ name: pick(rng, GARBAGE), address: pick(rng, GARBAGE) }] : [],
        to: rng() < 0.5 ? [{}] : undefined,
      }
      : undefined,
    bodyStructure: rng() < 0.95 ? structure : undefined,
    headers: rng() < 0.95 ? mutate(rng, headers) : undefined,
    gmail: rng() < 0.2 ? { msgid: String(int(rng, 1e12)), thrid: null, labels: [] } : null,
    text: part(plan.text),
    html: part(plan.html),
    bodySkipped: rng() < 0.05 ? "too_large" : undefined,
  };
}

const isStringArray = (value: unknown): boolean =>
  Array.isArray(value) && value.every((item) => typeof item === "string");
const isNullableString = (value: unknown): boolean => value === null || typeof value === "string";

Deno.test(`buildEmailPayload() survives ${CASES} mutated messages (seed ${SEED})`, async () => {
  const rng = random(SEED);
  let withParseError = 0;
  const context = { account: "fuzz@example.test", mailbox: "INBOX", uidValidity: 7 };
  for (let index = 0; index < CASES; index++) {
    const message = await fuzzCase(rng, index);
    const where = `seed ${SEED}, case ${index}`;
    let built;
    try {
      built = buildEmailPayload(message, { ...context, bodyTextChars: 2000, bodyHtmlChars: 500 });
    } catch (error) {
      assert.fail(`${where}: buildEmailPayload threw ${String(error)}`);
    }
    const payload = JSON.parse(JSON.stringify(built.payload)) as Record<string, unknown>;
    assert.equal(payload.schema_version, SCHEMA_VERSION, where);
    assert.equal(payload.uid, message.uid, where);
    assert.equal(payload.uidvalidity, 7, where);
    for (const field of ["to", "cc", "reply_to", "references", "flags"]) {
      assert.ok(isStringArray(payload[field]), `${where}: ${field}`);
    }
    for (const field of ["message_id", "from", "subject", "date", "internal_date", "in_reply_to"]) {
      assert.ok(isNullableString(payload[field]), `${where}: ${field}`);
    }
    assert.equal(typeof payload.body_text, "string", where);
    assert.ok((payload.body_text as string).length <= 2000, `${where}: body_text too long`);
    assert.ok((payload.body_html_preview as string).length <= 500, `${where}: html too long`);
    assert.ok(Array.isArray(payload.attachments), where);
    assert.equal(typeof payload.headers, "object", where);
    assert.ok(built.dedupeId.length > 0, `${where}: empty dedupe id`);
    if (payload.parse_error !== undefined) {
      assert.equal(typeof payload.parse_error, "string", where);
      withParseError++;
    }
  }
  // The mutations are meant to break things: most cases must have been judged unparseable.
  console.log(`fuzz: ${CASES} cases, seed ${SEED}, ${withParseError} published with parse_error`);
  assert.ok(withParseError > 0, "no case produced a parse_error: the mutations do nothing");
});
