/**
 * Memory of a fleet process with many idle accounts: one
 * `ingest produce --fleet` child (with the `ingest` task's V8 flags) on a
 * private Dovecot with password users and a private Redis. For each count it
 * samples the child's RSS (VmRSS from /proc) with an empty registry (the
 * base), registers that many accounts (one INBOX each), waits until every
 * account is idle in IMAP IDLE, lets it settle and samples again; it prints
 * the RSS per idle account over the base. Target: ≤ 2 MB per idle account.
 *
 *   deno run -A scripts/bench_fleet.ts [--accounts 100,500] [--settle 10]
 *
 * @module
 */

import { Redis } from "ioredis";
import { numberedUsers, startDovecot } from "../tests/harness/dovecot.ts";
import { randomTokenKey, registerAccounts, until } from "../tests/harness/fleet.ts";
import { freePort, waitForPort } from "../tests/harness/ports.ts";
import { startRedis } from "../tests/harness/redis_server.ts";
import { scriptOptions } from "./script_options.ts";

const values = scriptOptions(import.meta.filename!, {
  accounts: { type: "string", default: "100,500" },
  settle: { type: "string", default: "10" },
});
const COUNTS = values.accounts.split(",").map(Number);
const SETTLE_S = Number(values.settle);
const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

function taskV8Flags(): string {
  const deno = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url))) as {
    tasks: Record<string, string>;
  };
  return /--v8-flags=(\S+)/.exec(deno.tasks.ingest ?? "")?.[1] ?? "";
}

function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** The median of three samples a second apart. */
async function sampleRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    samples.push(rssMb(pid));
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return samples.sort((a, b) => a - b)[1]!;
}

interface FleetStatusBody {
  fleet: { accounts: { state: string }[] } | null;
}

async function idleAccounts(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/status`);
  const body = await response.json() as FleetStatusBody;
  return body.fleet?.accounts.filter((a) => a.state === "idle").length ?? 0;
}

async function measure(count: number, env: Record<string, string>, redis: Redis): Promise<void> {
  await redis.flushall();
  const port = freePort();
  const v8 = taskV8Flags();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      ...(v8 ? [`--v8-flags=${v8}`] : []),
      MAIN,
      "--no-env-file",
      "produce",
      "--fleet",
      "--max-accounts",
      String(count),
      "--health-port",
      String(port),
    ],
    env: { ...env, HEALTH_PORT: String(port) },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitForPort(port, 30_000);
    await new Promise((r) => setTimeout(r, 5_000));
    const base = await sampleRss(child.pid);
    const users = numberedUsers(count);
    const started = performance.now();
    await registerAccounts(redis, users, env.INGEST_TOKEN_KEY!);
    await until(
      `${count} accounts idle`,
      async () => await idleAccounts(port) === count,
      300_000,
      500,
    );
    const idleAfterS = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
    const loaded = await sampleRss(child.pid);
    const perAccount = (loaded - base) / count;
    console.log(
      `${String(count).padStart(5)} accounts  base ${base.toFixed(1)} MB  with accounts ` +
        `${loaded.toFixed(1)} MB  per idle account ${perAccount.toFixed(2)} MB  ` +
        `(all idle after ${idleAfterS.toFixed(1)} s)`,
    );
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

const largest = Math.max(...COUNTS);
await using redisServer = await startRedis();
await using dovecot = await startDovecot({ users: numberedUsers(largest) });
const redis = new Redis(redisServer.url);
const env = {
  IMAP_HOST: "127.0.0.1",
  IMAP_PORT: String(dovecot.port),
  IMAP_TLS: "false",
  REDIS_URL: redisServer.url,
  REDIS_STREAM_NAME: "bench-fleet",
  INGEST_TOKEN_KEY: randomTokenKey(),
  LOG_LEVEL: "warn",
  LOG_FORMAT: "json",
};
console.log(`ingest produce --fleet, one INBOX per account, V8 flags: ${taskV8Flags() || "none"}`);
try {
  for (const count of COUNTS) await measure(count, env, redis);
} finally {
  redis.disconnect();
}
