/**
 * `deno task demo`: the whole pipeline on this machine, with nothing to set up.
 *
 * Starts a private redis-server and Dovecot on free loopback ports (never the
 * Redis on 6379), delivers realistic messages to a mailbox, then runs the real
 * `ingest` commands as a user would: `produce --once`, `stream inspect`,
 * `work --drain --sink file:…`, a live `produce` that picks up a new message
 * through IMAP IDLE, `state list`, and a dead-letter round trip (`dlq list`,
 * `dlq replay`). It checks that every message reached the
 * sink exactly once, prints what it saw and how to keep exploring, and stops
 * everything it started.
 *
 * `--keep` leaves redis-server and Dovecot running after the tour, writes an
 * env file for `ingest --env-file`, prints commands to try against them, and
 * stops everything on Ctrl-C.
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
async function ingest(
  args: string[],
  env: Record<string, string>,
  expectedCode = 0,
): Promise<string> {
  console.log(`$ ingest ${args.join(" ")}`);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", MAIN, "--no-env-file", ...args],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (output.code !== expectedCode) {
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
        "Install them with:  sudo scripts/setup.sh demo   (or run the demo as scripts/demo.sh)\n" +
        "(the demo starts its own private servers; nothing else is configured)",
    );
  }
}

/** Flags of the demo. */
interface DemoOptions {
  /** Leave the servers running (until SIGINT/SIGTERM) with an env file to use them. */
  keep: boolean;
}

function parseDemoArgs(args: readonly string[]): DemoOptions {
  const unknown = args.filter((arg) => arg !== "--keep");
  if (unknown.length > 0) {
    throw new Error(`unknown argument ${unknown[0]} (usage: deno task demo [--keep])`);
  }
  return { keep: args.includes("--keep") };
}

async function main(options: DemoOptions): Promise<void> {
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
  // Exit 3: the drain finished but dead-lettered entries.
  await ingest(["work", "--drain", "--sink", `module:${refusing}`], env, 3);
  console.log(await ingest(["dlq", "list"], env));
  console.log(await ingest(["dlq", "replay", "--all"], env));
  await ingest(["work", "--drain", "--sink", `file:${sinkFile}`], env);
  const final = (await Deno.readTextFile(sinkFile)).trim().split("\n");
  const finalKeys = new Set(final.map((line) => idempotencyKeyOf(line)));
  console.log(`${final.length} lines in the sink file, ${finalKeys.size} distinct keys`);
  if (final.length !== MESSAGES + 1 || finalKeys.size !== MESSAGES + 1) {
    throw new Error("the replayed message did not reach the sink exactly once");
  }

  if (options.keep) {
    await keepRunning(env, work, redis.port, dovecot.port);
  } else {
    step("Keep exploring");
    console.log(EXPLORE_WITHOUT_KEEP);
    step("Done: everything stopped and removed");
  }
  await Deno.remove(work, { recursive: true });
}

const EXPLORE_WITHOUT_KEEP = [
  "  scripts/demo.sh --keep        the same tour, then leaves redis-server and Dovecot running",
  "                                with an env file, so you can run any ingest command against them",
  "  deno task ingest --help       every command, with examples (ingest <command> --help)",
  "  README.md, Using it with Gmail   your own mailbox: OAuth2 setup, doctor, produce, work",
  "  docs/DELIVERY.md              what exactly-once into the stream and at-least-once to sinks mean",
].join("\n");

/** The variables a person needs to point `ingest` at the demo's servers (no log settings). */
function envFileText(env: Record<string, string>): string {
  const keep = [
    "REDIS_URL",
    "REDIS_STREAM_NAME",
    "IMAP_HOST",
    "IMAP_PORT",
    "IMAP_TLS",
    "IMAP_AUTH",
    "IMAP_USER",
    "IMAP_PASSWORD",
    "IMAP_MAILBOX",
    "HEALTH_PORT",
  ];
  return keep.filter((name) => env[name] !== undefined).map((name) => `${name}=${env[name]}\n`)
    .join("");
}

/** `--keep`: writes the env file, prints what to try, waits for Ctrl-C. */
async function keepRunning(
  env: Record<string, string>,
  work: string,
  redisPort: number,
  imapPort: number,
): Promise<void> {
  const envFile = `${work}/demo.env`;
  await Deno.writeTextFile(envFile, envFileText(env));
  const ingest = `deno task ingest --env-file ${envFile}`;
  step("Keep exploring: the servers stay up until you press Ctrl-C");
  console.log(
    [
      `env file: ${envFile}   (or: set -a; . ${envFile}; set +a)`,
      `  ${ingest} stream inspect`,
      `  ${ingest} state list`,
      `  ${ingest} dlq list`,
      `  ${ingest} produce             # live: follows INBOX through IDLE (Ctrl-C stops it)`,
      `  ${ingest} work --sink stdout  # in another terminal: new entries as JSON lines`,
      `  curl -sT message.eml --user ${USER}:${PASSWORD} imap://127.0.0.1:${imapPort}/INBOX` +
      "   # deliver a message",
      `  redis-cli -p ${redisPort} XLEN demo_stream`,
      "ready: waiting for Ctrl-C",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    // Idempotent: under `deno task`, one Ctrl-C arrives twice.
    for (const name of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(name, resolve);
  });
  step("Stopping redis-server and Dovecot, removing the demo directory");
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
      args: ["run", "--allow-all", "--quiet", MAIN, "--no-env-file", "produce"],
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
    await main(parseDemoArgs(Deno.args));
  } catch (error) {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
