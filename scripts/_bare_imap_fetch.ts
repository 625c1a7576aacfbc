/**
 * A bare imapflow download of a mailbox, run as a child by
 * `scripts/bench_memory.ts --cli --bare`: the same two FETCH phases the
 * producer sends per chunk (metadata with BODYSTRUCTURE and headers, then
 * the first body part), nothing built, nothing kept. Its memory curve is
 * what imapflow, Deno and the allocator cost without any of our code; it
 * prints `done <n>` after each chunk.
 *
 *   deno run -A scripts/_bare_imap_fetch.ts <port> <user> <password> [chunk]
 *
 * @module
 */

import { ImapFlow } from "imapflow";

const [port, user, pass, chunkArg] = Deno.args;
const CHUNK = Number(chunkArg ?? "250");
const client = new ImapFlow({
  host: "127.0.0.1",
  port: Number(port),
  secure: false,
  auth: { user: user!, pass: pass! },
  logger: false,
  disableAutoIdle: true,
});
await client.connect();
const mailbox = await client.mailboxOpen("INBOX", { readOnly: true });
const last = mailbox.uidNext - 1;
let done = 0;
for (let from = 1; from <= last; from += CHUNK) {
  const range = `${from}:${Math.min(from + CHUNK - 1, last)}`;
  const metadata = {
    uid: true,
    flags: true,
    size: true,
    internalDate: true,
    bodyStructure: true,
    headers: true,
  } as const;
  let rows = 0;
  for await (const _row of client.fetch(range, metadata, { uid: true })) rows++;
  for await (const _row of client.fetch(range, { uid: true, bodyParts: ["1"] }, { uid: true })) {
    // dropped: only the transfer and parsing are measured
  }
  done += rows;
  console.log(`done ${done}`);
}
await client.logout();
