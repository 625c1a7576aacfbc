/**
 * Payload building cost: µs per message of `buildEmailPayload` on what the
 * producer really fetches (ENVELOPE, BODYSTRUCTURE, header block, first bytes
 * of the text parts) from a private Dovecot, and how many messages needed the
 * whole-message fallback (`parsed_by: "full"`).
 *
 *   deno run -A scripts/bench_payload.ts [--messages 2000] [--rounds 5]
 *     [--mix realistic|html-heavy] [--corpus DIR] [--reference path/to/old/message_payload.ts]
 *
 * `--mix` picks the generated mailbox: the wave-1 mix of tests/harness/mail.ts
 * (default) or issue 14's HTML-heavy profile (tests/harness/mail_profile.ts).
 * `--corpus` adds a folder of real-world messages (see compare_decoding.ts);
 * `--reference` times another copy of the payload builder on the same fetched
 * data (e.g. an older checkout of `src/`), for a before/after figure.
 *
 * @module
 */

import { openMailboxSession } from "../src/imap/mailbox_session.ts";
import { passwordCredentials } from "../src/imap/credentials.ts";
import { createLogger } from "../src/log/logger.ts";
import type { BuiltPayload, FetchedMessage, PayloadContext } from "../src/imap/message_payload.ts";
import { buildEmailPayload } from "../src/imap/message_payload.ts";
import { loadHtmlToText } from "../src/imap/html_text.ts";
import { startDovecot } from "../tests/harness/dovecot.ts";
import { realisticMessage } from "../tests/harness/mail.ts";
import { HTML_HEAVY, profileMailbox } from "../tests/harness/mail_profile.ts";
import { TEST_PASSWORD, TEST_USER } from "../tests/harness/pipeline_env.ts";
import { scriptOptions } from "./script_options.ts";

type Builder = (message: FetchedMessage, context: PayloadContext) => BuiltPayload;

const values = scriptOptions(import.meta.filename!, {
  messages: { type: "string", default: "2000" },
  rounds: { type: "string", default: "5" },
  corpus: { type: "string" },
  reference: { type: "string" },
  mix: { type: "string", default: "realistic" },
});
const COUNT = Number(values.messages);
const ROUNDS = Number(values.rounds);
const CORPUS = values.corpus;
const REFERENCE = values.reference;
const MIX = values.mix;
if (MIX !== "realistic" && MIX !== "html-heavy") {
  throw new Error(`--mix: expected realistic or html-heavy, got ${MIX}`);
}
const CONTEXT: PayloadContext = {
  account: TEST_USER,
  mailbox: "INBOX",
  uidValidity: 1,
  bodyTextChars: 2_000,
  bodyHtmlChars: 500,
};
const LIMITS = { bodyTextChars: 2_000, bodyHtmlChars: 500, maxMessageBytes: 25 * 1024 * 1024 };

async function* seed(): AsyncIterable<Uint8Array> {
  if (MIX === "html-heavy") {
    yield* profileMailbox(COUNT, HTML_HEAVY);
    return;
  }
  for (let i = 0; i < COUNT; i++) yield await realisticMessage(i);
}

async function corpusFiles(dir: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) out.push(await Deno.readFile(`${dir}/${entry.name}`));
  }
  return out;
}

async function fetchAll(port: number, mailbox: string): Promise<FetchedMessage[]> {
  const session = await openMailboxSession({
    server: { host: "127.0.0.1", port, secure: false },
    credentials: passwordCredentials(TEST_USER, TEST_PASSWORD),
    mailbox,
    logger: createLogger({ level: "error" }),
  });
  try {
    const uids = await session.newUids(0);
    const messages: FetchedMessage[] = [];
    for (let i = 0; i < uids.length; i += 250) {
      messages.push(...(await session.fetchBatch(uids.slice(i, i + 250), LIMITS)).messages);
    }
    return messages;
  } finally {
    await session.close();
  }
}

/**
 * Median µs per message of each builder over `ROUNDS` passes (after one
 * warm-up pass). Builders take turns within a round, so a machine shared with
 * other work slows them alike.
 */
function time(builders: Array<[string, Builder]>, messages: FetchedMessage[]): number[] {
  const samples = builders.map((): number[] => []);
  for (let round = -1; round < ROUNDS; round++) {
    builders.forEach(([, build], b) => {
      const started = performance.now();
      for (const message of messages) build(message, CONTEXT);
      if (round >= 0) samples[b]!.push(((performance.now() - started) * 1000) / messages.length);
    });
  }
  return samples.map((perMessage) => {
    perMessage.sort((a, b) => a - b);
    return perMessage[Math.floor(perMessage.length / 2)]!;
  });
}

// As the producer does before it builds a batch with an HTML-only message.
await loadHtmlToText();
await using dovecot = await startDovecot();
await dovecot.seedMaildir(TEST_USER, "INBOX", seed());
const sets: Array<[string, FetchedMessage[]]> = [[
  `benchmark mailbox (${MIX}, ${COUNT})`,
  await fetchAll(dovecot.port, "INBOX"),
]];
if (CORPUS) {
  await dovecot.seedMaildir(TEST_USER, "Corpus", await corpusFiles(CORPUS));
  sets.push([`corpus ${CORPUS}`, await fetchAll(dovecot.port, "Corpus")]);
}
const builders: Array<[string, Builder]> = [["current", buildEmailPayload]];
if (REFERENCE) {
  const module = await import(new URL(REFERENCE, `file://${Deno.cwd()}/`).href);
  builders.unshift(["reference", module.buildEmailPayload as Builder]);
}
for (const [name, messages] of sets) {
  const full = messages.filter((m) => buildEmailPayload(m, CONTEXT).payload.parsed_by === "full");
  console.log(
    `${name}: ${messages.length} messages, ${full.length} parsed whole (parsed_by "full")`,
  );
  const figures = time(builders, messages);
  builders.forEach(([label], b) => {
    console.log(`  ${label.padEnd(10)} ${figures[b]!.toFixed(1)} µs per message`);
  });
}
