/**
 * The producer's two FETCH phases alone, with imapflow's framing and row
 * parser and with ours (`src/imap/response_framing.ts`, `raw_fetch.ts`), on
 * a private Dovecot seeded with the HTML-heavy profile. Prints, for each
 * reader, the CPU and wall time of `MailboxSession.fetchBatch` over the
 * whole mailbox (chunks of 250, interleaved runs, medians), and the CPU per
 * phase-1 row of the parse alone: imapflow's tokenizer +
 * `formatMessageResponse` against `readFetchRow`, on the same captured rows.
 *
 *   deno run -A scripts/bench_fetch_rows.ts [--messages 5000] [--runs 3]
 *
 * @module
 */

import { Buffer } from "node:buffer";
import process from "node:process";
import type { ImapFlow } from "imapflow";
import parser from "imapflow/lib/handler/imap-parser.js";
import { formatMessageResponse } from "imapflow/lib/tools.js";
import { passwordCredentials } from "../src/imap/credentials.ts";
import { readFetchRow } from "../src/imap/fetch_rows.ts";
import { openMailboxSession } from "../src/imap/mailbox_session.ts";
import { METADATA_QUERY } from "../src/imap/metadata_rows.ts";
import { createLogger } from "../src/log/logger.ts";
import { startDovecot } from "../tests/harness/dovecot.ts";
import { HTML_HEAVY, profileMailbox } from "../tests/harness/mail_profile.ts";
import { TEST_PASSWORD, TEST_USER } from "../tests/harness/pipeline_env.ts";
import { scriptOptions } from "./script_options.ts";

const values = scriptOptions(import.meta.filename!, {
  messages: { type: "string", default: "5000" },
  runs: { type: "string", default: "3" },
});
const COUNT = Number(values.messages);
const RUNS = Number(values.runs);
const LIMITS = { bodyTextChars: 2000, bodyHtmlChars: 500, maxMessageBytes: 25 * 1024 * 1024 };

const cpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};
const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[numbers.length >> 1]!;

await using dovecot = await startDovecot();
await dovecot.seedMaildir(TEST_USER, "INBOX", profileMailbox(COUNT, HTML_HEAVY));
const logger = createLogger({ level: "error", format: "json", write: () => {} });

/** One full fetch of the mailbox through a session; CPU and wall seconds. */
async function fetchAll(rowReader: boolean): Promise<{ cpu: number; wall: number; bytes: number }> {
  const session = await openMailboxSession({
    server: { host: dovecot.host, port: dovecot.port, secure: false },
    credentials: passwordCredentials(TEST_USER, TEST_PASSWORD),
    mailbox: "INBOX",
    logger,
    rowReader,
  });
  try {
    const uids = await session.newUids(0);
    const cpu = cpuSeconds();
    const wall = performance.now();
    let bytes = 0;
    for (let i = 0; i < uids.length; i += 250) {
      const batch = await session.fetchBatch(uids.slice(i, i + 250), LIMITS);
      if (batch.interrupted) throw batch.interrupted.error;
      bytes += batch.bytes;
    }
    return { cpu: cpuSeconds() - cpu, wall: (performance.now() - wall) / 1000, bytes };
  } finally {
    await session.close();
  }
}

const runs = new Map<string, { cpu: number; wall: number; bytes: number }[]>([
  ["imapflow", []],
  ["ours", []],
]);
await fetchAll(true); // warm-up: JIT and Dovecot's caches
for (let r = 0; r < RUNS; r++) {
  runs.get("imapflow")!.push(await fetchAll(false));
  runs.get("ours")!.push(await fetchAll(true));
}
console.log(`fetchBatch over ${COUNT} HTML-heavy messages (chunks of 250), medians of ${RUNS}:`);
for (const [reader, list] of runs) {
  console.log(
    `  ${reader.padEnd(8)} CPU ${median(list.map((x) => x.cpu)).toFixed(2)} s, wall ${
      median(list.map((x) => x.wall)).toFixed(2)
    } s, ${(list[0]!.bytes / 1024 / 1024).toFixed(1)} MB downloaded (headers and text parts)`,
  );
}

// The parse alone, on phase-1 rows captured as imapflow's line reader hands them over.
const rows: { payload: Buffer; literals: Buffer[] }[] = [];
const client = await dovecot.client(TEST_USER);
const mailbox = await client.mailboxOpen("INBOX", { readOnly: true });
const internals = client as unknown as { handleResponse(data: unknown): Promise<boolean> };
const original = internals.handleResponse;
internals.handleResponse = function (this: unknown, data: unknown) {
  const item = data as { payload: Buffer; literals: Buffer[] };
  if (/^\* \d+ FETCH /.test(item.payload.toString("latin1", 0, 24)) && rows.length < 2000) {
    rows.push({ payload: Buffer.from(item.payload), literals: item.literals.map((l) => l) });
  }
  return original.call(this, data);
};
for await (const _ of client.fetch("1:2000", METADATA_QUERY, { uid: true }));
await client.logout();

async function perRow(read: (row: typeof rows[number]) => unknown): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const cpu = cpuSeconds();
    for (const row of rows) await read(row);
    samples.push(((cpuSeconds() - cpu) / rows.length) * 1e6);
  }
  return median(samples.slice(1));
}
const connection = client as ImapFlow;
const theirs = await perRow(async (row) =>
  formatMessageResponse(
    await parser(row.payload, { literals: [...row.literals] }),
    mailbox,
    undefined,
    connection,
  )
);
const ours = await perRow((row) => readFetchRow(row.payload, row.literals, connection));
console.log(`parse of one phase-1 row (${rows.length} rows, CPU, median of 4):`);
console.log(`  imapflow parser + formatMessageResponse ${theirs.toFixed(1)} µs`);
console.log(`  readFetchRow                            ${ours.toFixed(1)} µs`);
