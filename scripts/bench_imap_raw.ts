/**
 * Reference for `bench_produce.ts`: the fastest a client can pull a mailbox,
 * a raw imapflow streaming FETCH of every message's full source, each one
 * discarded as soon as it arrives. Prints one JSON line.
 *
 *   deno run -A scripts/bench_imap_raw.ts --host 127.0.0.1 --port 1143 \
 *     --user alice@example.test --password secret --mailbox INBOX
 *
 * @module
 */

import { ImapFlow } from "imapflow";

function flag(name: string, fallback?: string): string {
  const index = Deno.args.indexOf(`--${name}`);
  const value = index >= 0 ? Deno.args[index + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

const client = new ImapFlow({
  host: flag("host", "127.0.0.1"),
  port: Number(flag("port")),
  secure: flag("tls", "false") === "true",
  auth: { user: flag("user"), pass: flag("password") },
  logger: false,
  disableAutoIdle: true,
});
const started = performance.now();
await client.connect();
await client.mailboxOpen(flag("mailbox", "INBOX"), { readOnly: true });
let messages = 0;
let bytes = 0;
for await (const message of client.fetch("1:*", { uid: true, source: true }, { uid: true })) {
  messages++;
  bytes += message.source?.length ?? 0;
}
const seconds = (performance.now() - started) / 1000;
await client.logout();
console.log(JSON.stringify({ messages, bytes, seconds }));
