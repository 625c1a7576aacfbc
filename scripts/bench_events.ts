/**
 * What `--events new,updated,deleted` costs, on a private Dovecot and Redis
 * (never the Redis on 6379), with `ingest produce --once` as a child process:
 *
 * 1. the initial sync of N messages with `EVENTS=new` and with change tracking
 *    (which also records every message's flags and reads a baseline), wall
 *    time, interleaved over `--runs`;
 * 2. the catch-up after a restart: `--changes` messages marked read and a
 *    tenth of that expunged while the producer was stopped, then one
 *    `--once` run: its wall time and the entries it wrote.
 *
 *   deno run -A scripts/bench_events.ts [--messages 2000] [--changes 500] [--runs 2]
 *
 * @module
 */

import { Redis } from "ioredis";
import { execIngest } from "../tests/harness/cli.ts";
import { startDovecot } from "../tests/harness/dovecot.ts";
import { realisticMessage } from "../tests/harness/mail.ts";
import { pipelineEnv, TEST_USER } from "../tests/harness/pipeline_env.ts";
import { startRedis } from "../tests/harness/redis_server.ts";
import { scriptOptions } from "./script_options.ts";

const values = scriptOptions(import.meta.filename!, {
  messages: { type: "string", default: "2000" },
  changes: { type: "string", default: "500" },
  runs: { type: "string", default: "2" },
});
const messages = Number(values.messages);
const changes = Number(values.changes);

await using dovecot = await startDovecot();
await using server = await startRedis();
const redis = new Redis(server.port, "127.0.0.1");
const env = (events: string) => ({
  ...pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream: "bench-events" }),
  EVENTS: events,
  LOG_LEVEL: "warn",
});

async function once(events: string): Promise<number> {
  const started = performance.now();
  const run = await execIngest(["produce", "--once"], { env: env(events) });
  if (run.code !== 0) throw new Error(`produce failed: ${run.stderr}`);
  return (performance.now() - started) / 1000;
}

async function* corpus(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < messages; i++) yield await realisticMessage(i);
}

try {
  await dovecot.seedMaildir(TEST_USER, "INBOX", corpus());
  const walls: Record<string, number[]> = { new: [], "new,updated,deleted": [] };
  for (let run = 0; run < Number(values.runs); run++) {
    for (const events of Object.keys(walls)) {
      await redis.flushdb();
      walls[events]!.push(await once(events));
    }
  }
  for (const [events, list] of Object.entries(walls)) {
    const median = [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
    console.log(
      `initial sync of ${messages} messages, EVENTS=${events}: ` +
        `${list.map((s) => s.toFixed(2)).join(" ")} s (median ${median.toFixed(2)} s)`,
    );
  }
  // The last run above tracked changes: its state is in Redis. Change mail while stopped.
  const client = await dovecot.client(TEST_USER);
  try {
    await client.mailboxOpen("INBOX");
    await client.messageFlagsAdd(`1:${changes}`, ["\\Seen"], { uid: true });
    await client.messageDelete(`${changes + 1}:${changes + Math.ceil(changes / 10)}`, {
      uid: true,
    });
  } finally {
    await client.logout();
  }
  const before = await redis.xlen("bench-events");
  const seconds = await once("new,updated,deleted");
  console.log(
    `catch-up after a restart: ${changes} read + ${Math.ceil(changes / 10)} expunged → ` +
      `${(await redis.xlen("bench-events")) - before} entries in ${seconds.toFixed(2)} s`,
  );
} finally {
  redis.disconnect();
}
