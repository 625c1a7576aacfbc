/**
 * `deno task demo`: the whole pipeline on this machine, with nothing to set up.
 *
 * Starts a private redis-server and Dovecot on free loopback ports (never the
 * Redis on 6379), delivers realistic messages to a mailbox, then runs the real
 * `ingest` commands as a user would: `produce --once`, `stream inspect`,
 * `work --drain --sink file:…`, a live `produce` that picks up a new message
 * through IMAP IDLE, `state list`, and a dead-letter round trip (`dlq list`,
 * `dlq replay`). It checks that every message reached the
 * sink exactly once, prints what it saw, and stops everything it started.
 *
 * @module
 */

import { Redis } from "ioredis";
import { startDovecot } from "../tests/harness/dovecot.ts";
import { realisticMessage } from "../tests/harness/mail.ts";
import { startRedis } from "../tests/harness/redis_server.ts";
import { pipelineEnv } from "../tests/harness/pipeline_env.ts";

const MESSAGES = 300;
const USER = "demo@example.test";
const PASSWORD = "demo-password";
const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

function step(title: string): void {
  console.log(`\n\x1b[1m== ${title}\x1b[0m`);
}

/** Runs `ingest <args>` as a real process; its logs go to our stderr, its output is returned. */
async function ingest(args: string[], env: Record<string, string>): Promise<string> {
  console.log(`$ ingest ${args.join(" ")}`);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, "--env-file", "/nonexistent/.env", ...args],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    console.log(text);
    throw new Error(`ingest ${args[0]} exited with code ${output.code}`);
  }
  return text;
}

async function* realisticMessages(count: number): AsyncGenerator<Uint8Array> {
  for (let index = 0; index < count; index++) yield await realisticMessage(index);
}

/** The system packages the demo needs, and how to install each when it is missing. */
async function checkPrerequisites(): Promise<void> {
  const missing: string[] = [];
  const found = async (command: string) =>
    (await new Deno.Command("sh", { args: ["-c", `command -v ${command}`], stdout: "null" })
      .output()).success;
  if (!(await found("redis-server"))) missing.push("redis-server");
  if (!(await Deno.stat("/usr/sbin/dovecot").then(() => true, () => false))) {
    missing.push("dovecot-imapd");
  }
  if (missing.length > 0) {
    throw new Error(
      `missing system packages: ${missing.join(", ")}.\n` +
        `Install them with:  sudo apt-get install -y ${missing.join(" ")}\n` +
        "(the demo starts its own private servers; nothing else is configured)",
    );
  }
}

async function main(): Promise<void> {
  await checkPrerequisites();
  step("Starting a private redis-server and Dovecot on loopback");
  await using redis = await startRedis();
  await using dovecot = await startDovecot({ users: [{ user: USER, password: PASSWORD }] });
  const work = await Deno.makeTempDir({ prefix: "ingest-demo-" });
  console.log(`redis-server on 127.0.0.1:${redis.port}, Dovecot IMAP on 127.0.0.1:${dovecot.port}`);

  const env: Record<string, string> = {
    ...pipelineEnv({
      imapPort: dovecot.port,
      redisUrl: redis.url,
      stream: "demo_stream",
      user: USER,
      password: PASSWORD,
      logLevel: "info",
    }),
    IMAP_MAILBOX: "INBOX",
    HEALTH_PORT: "0",
    LOG_FORMAT: "pretty",
  };

  step(`Delivering ${MESSAGES} realistic messages (text, HTML, attachments, non-ASCII)`);
  await dovecot.seedMaildir(USER, "INBOX", realisticMessages(MESSAGES));

  step("Producing: IMAP → Redis Stream (one atomic commit per batch)");
  await ingest(["produce", "--once"], env);
  console.log(await ingest(["stream", "inspect"], env));

  step("Working: stream → file sink, through the consumer group");
  const sinkFile = `${work}/emails.jsonl`;
  await ingest(["work", "--drain", "--sink", `file:${sinkFile}`], env);
  const lines = (await Deno.readTextFile(sinkFile)).trim().split("\n");
  const keys = new Set(lines.map((line) => idempotencyKeyOf(line)));
  console.log(`${lines.length} lines in ${sinkFile}, ${keys.size} distinct idempotency keys`);
  if (lines.length !== MESSAGES || keys.size !== MESSAGES) {
    throw new Error(`expected each of the ${MESSAGES} messages exactly once`);
  }
  console.log("first entry:", summarize(lines[0]!));

  step("Running again: nothing new, nothing written twice");
  await ingest(["produce", "--once"], env);
  await ingest(["work", "--drain", "--sink", `file:${sinkFile}`], env);
  const after = (await Deno.readTextFile(sinkFile)).trim().split("\n").length;
  console.log(`${after} lines in the sink file (unchanged)`);
  if (after !== MESSAGES) throw new Error("a second run wrote duplicates");

  step("Live: a running producer picks up new mail through IMAP IDLE");
  await liveDelivery(env, redis.url, dovecot.append.bind(dovecot));
  console.log(await ingest(["state", "list"], env));

  step("Dead-letter queue: a poison message the handler refuses, replayed by an operator");
  const refusing = `${work}/refusing_handler.ts`;
  await Deno.writeTextFile(
    refusing,
    `import { PermanentError } from ${
      JSON.stringify(new URL("../mod.ts", import.meta.url).href)
    };\n` +
      `export function handle(): never { throw new PermanentError("the CRM is read-only today"); }\n`,
  );
  await ingest(["work", "--drain", "--sink", `module:${refusing}`], env);
  console.log(await ingest(["dlq", "list"], env));
  console.log(await ingest(["dlq", "replay", "--all"], env));
  await ingest(["work", "--drain", "--sink", `file:${sinkFile}`], env);
  const final = (await Deno.readTextFile(sinkFile)).trim().split("\n");
  const finalKeys = new Set(final.map((line) => idempotencyKeyOf(line)));
  console.log(`${final.length} lines in the sink file, ${finalKeys.size} distinct keys`);
  if (final.length !== MESSAGES + 1 || finalKeys.size !== MESSAGES + 1) {
    throw new Error("the replayed message did not reach the sink exactly once");
  }

  step("Done: everything stopped and removed");
  await Deno.remove(work, { recursive: true });
}

/** Starts `ingest produce`, appends one message, waits for its entry, stops the producer. */
async function liveDelivery(
  env: Record<string, string>,
  redisUrl: string,
  append: (user: string, mailbox: string, raw: Uint8Array) => Promise<unknown>,
): Promise<void> {
  const client = new Redis(redisUrl, { lazyConnect: true });
  await client.connect();
  try {
    const producer = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", MAIN, "--env-file", "/nonexistent/.env", "produce"],
      env: { ...env, LOG_LEVEL: "warn" },
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    console.log("$ ingest produce   (running in the background)");
    const before = await client.xlen("demo_stream");
    await waitFor(async () => (await client.get(`producer_lease:${USER}:INBOX`)) !== null);
    // Let the first sync round finish so the message arrives through IDLE, not that round.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sent = performance.now();
    await append(USER, "INBOX", await realisticMessage(MESSAGES));
    await waitFor(async () => (await client.xlen("demo_stream")) > before);
    console.log(
      `new message in the stream ${Math.round(performance.now() - sent)} ms after APPEND`,
    );
    producer.kill("SIGTERM");
    const status = await producer.status;
    console.log(`producer stopped on SIGTERM with exit code ${status.code}`);
  } finally {
    client.disconnect();
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the producer");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function idempotencyKeyOf(line: string): string {
  const document = JSON.parse(line) as { idempotency_key?: string; payload?: { uid?: number } };
  return document.idempotency_key ?? String(document.payload?.uid);
}

function summarize(line: string): string {
  const document = JSON.parse(line) as Record<string, unknown>;
  const payload = (document.payload ?? document) as Record<string, unknown>;
  const pick = ["uid", "subject", "from", "date", "size", "attachments"];
  return JSON.stringify(Object.fromEntries(pick.map((key) => [key, payload[key]])));
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
