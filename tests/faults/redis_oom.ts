/**
 * Redis full (`noeviction` past `maxmemory`) while `ingest produce` syncs a
 * mailbox, and while `ingest work` processes run handlers: the producer must
 * name the OOM, keep its state and resume; the workers must run each handler
 * once, dead-letter nothing and pass truthful attempt numbers.
 *
 * @module
 */

import type { RedisClient } from "../../src/redis/client.ts";
import { emailEntryFields } from "../../src/stream/entry.ts";
import { startDovecot } from "../harness/dovecot.ts";
import { startFlakyReceiver } from "../harness/flaky_receiver.ts";
import { realisticMessage } from "../harness/mail.ts";
import { pipelineEnv, TEST_USER } from "../harness/pipeline_env.ts";
import { fillRedis, memoryUse } from "../harness/redis_fill.ts";
import { startRedis } from "../harness/redis_server.ts";
import { client, emailPayload } from "../worker_fixtures.ts";
import {
  dlqCounts,
  groupBacklog,
  receiverRuns,
  sinkCounts,
  type StreamCounts,
  streamCounts,
} from "./counts.ts";
import { IngestProcess } from "./ingest_process.ts";
import { type FaultReport, type FaultScenario, NO_SINK, type ScenarioOptions } from "./scenario.ts";
import { secondsSince, sleep, waitFor } from "./wait.ts";

const GROUP = "email_workers";
const OOM_SAID = /out of memory[^\n]*maxmemory/;

/** Lines of a JSON log that name an OOM. */
function oomLines(log: string): number {
  return log.split("\n").filter((line) => OOM_SAID.test(line)).length;
}

/** The stream part of a report. */
function streamPart(expected: number, counts: StreamCounts) {
  return {
    mailbox_messages: expected,
    distinct_entries: counts.distinct,
    duplicates: counts.total - counts.distinct,
  };
}

function streamProblems(expected: number, counts: StreamCounts): string[] {
  const problems: string[] = [];
  if (counts.distinct !== expected) {
    problems.push(`${counts.distinct} of ${expected} messages in the stream`);
  }
  if (counts.total !== counts.distinct) {
    problems.push(`${counts.total - counts.distinct} duplicate entries in the stream`);
  }
  return problems;
}

async function runOomProduce(options: ScenarioOptions): Promise<FaultReport> {
  const started = performance.now();
  const messages = options.quick ? 100 : 1000;
  const faultMs = options.quick ? 5_000 : 60_000;
  const problems: string[] = [];
  await using dovecot = await startDovecot();
  await using server = await startRedis();
  const redis = await client(server.url);
  const stream = "faults:oom:produce";
  let producer: IngestProcess | undefined;
  try {
    const raw: Uint8Array[] = [];
    for (let i = 0; i < messages; i++) raw.push(await realisticMessage(i + options.seed));
    await dovecot.seedMaildir(TEST_USER, "INBOX", raw);
    // ~6 KB of Redis memory per message: 500 KB fill up after a few dozen.
    const { used } = await memoryUse(redis);
    await redis.config("SET", "maxmemory-policy", "noeviction");
    await redis.config("SET", "maxmemory", String(used + 500 * 1024));
    const env = pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream });
    const running = new IngestProcess(["produce", "--batch-size", "10"], env);
    producer = running;
    if (!await waitFor(() => OOM_SAID.test(running.log), 60_000)) {
      problems.push("the producer never said that Redis is out of memory (with maxmemory)");
    }
    const atFault = (await streamCounts(redis, stream)).distinct;
    if (atFault >= messages) problems.push("Redis filled up only after the sync was done");
    options.log(`Redis full with ${atFault} of ${messages} messages in; holding ${faultMs} ms`);
    await sleep(faultMs);
    if (running.exitCode !== undefined) {
      problems.push(`the producer exited (code ${running.exitCode}) while Redis was full`);
    }
    const freedAt = performance.now();
    await redis.config("SET", "maxmemory", "0"); // the fix the producer names
    const whole = await waitFor(
      async () => (await streamCounts(redis, stream)).distinct >= messages,
      faultMs + 90_000,
      100,
    );
    const recovery = whole ? secondsSince(freedAt) : null;
    if (!whole) problems.push("the producer did not resume after memory was freed");
    await sleep(300); // a duplicate commit, if any, would land now
    const counts = await streamCounts(redis, stream);
    const exit = await running.stop("SIGTERM");
    if (exit !== 0) problems.push(`the producer exited ${exit} on SIGTERM`);
    if (/redis unavailable/.test(running.log)) problems.push("the OOM was logged as an outage");
    problems.push(...streamProblems(messages, counts));
    return {
      scenario: "redis_oom_produce",
      ok: problems.length === 0,
      ...streamPart(messages, counts),
      sink: NO_SINK,
      dlq: { total: 0, reasons: {} },
      recovery_seconds: recovery,
      seconds: secondsSince(started),
      problems,
      details: {
        in_stream_when_full: atFault,
        fault_ms: faultMs,
        oom_log_lines: oomLines(running.log),
        producer_exit_code: exit,
      },
    };
  } finally {
    await producer?.stop("SIGKILL");
    redis.disconnect();
  }
}

/** Appends `count` email entries (uids 1..count). */
async function addEntries(redis: RedisClient, stream: string, count: number): Promise<void> {
  await redis.xgroup("CREATE", stream, GROUP, "0", "MKSTREAM");
  for (let uid = 1; uid <= count; uid += 100) {
    const batch = redis.pipeline();
    for (let u = uid; u < Math.min(uid + 100, count + 1); u++) {
      batch.xadd(stream, "*", ...emailEntryFields(emailPayload(u)));
    }
    await batch.exec();
  }
}

async function runOomWork(options: ScenarioOptions): Promise<FaultReport> {
  const started = performance.now();
  const entries = options.quick ? 120 : 600;
  const faultMs = options.quick ? 10_000 : 60_000;
  const problems: string[] = [];
  await using server = await startRedis();
  const redis = await client(server.url);
  const secret = `faults-secret-${options.seed}`;
  await using receiver = startFlakyReceiver({ secret, delayMs: 150, seed: options.seed });
  const stream = "faults:oom:work";
  const workers: IngestProcess[] = [];
  try {
    await addEntries(redis, stream, entries);
    const env = {
      REDIS_URL: server.url,
      REDIS_STREAM_NAME: stream,
      WEBHOOK_SECRET: secret,
    };
    for (const name of ["w1", "w2"]) {
      workers.push(
        new IngestProcess([
          "work",
          "--sink",
          `webhook:${receiver.url}`,
          "--consumer",
          name,
          "--concurrency",
          "4",
          // Far shorter than the fault: an entry its worker stopped touching would be reclaimed.
          "--visibility-timeout",
          "2",
        ], env),
      );
    }
    if (!await waitFor(() => receiver.requests.length >= 16, 60_000)) {
      problems.push("the workers never started delivering");
    }
    const filled = await fillRedis(redis);
    const atFault = receiver.requests.length;
    options.log(`Redis full after ${atFault} deliveries; holding ${faultMs} ms`);
    await sleep(faultMs);
    const duringFault = receiver.requests.length - atFault;
    for (const worker of workers) {
      if (worker.exitCode !== undefined) problems.push(`a worker exited (${worker.exitCode})`);
    }
    const freedAt = performance.now();
    await filled.free();
    await redis.config("SET", "maxmemory", "0");
    const whole = await waitFor(
      async () => await groupBacklog(redis, stream, GROUP) === 0,
      faultMs + 90_000,
      100,
    );
    const recovery = whole ? secondsSince(freedAt) : null;
    if (!whole) problems.push("the group still has unacknowledged entries");
    const exits = await Promise.all(workers.map((w) => w.stop("SIGTERM")));
    if (exits.some((code) => code !== 0)) problems.push(`worker exit codes ${exits.join(", ")}`);
    const named = workers.reduce((n, w) => n + oomLines(w.log), 0);
    if (named === 0) problems.push("no worker said that Redis is out of memory");
    const counts = await streamCounts(redis, stream);
    const dlq = await dlqCounts(redis, `${stream}:dlq`);
    const sink = sinkCounts(receiverRuns(receiver.requests));
    const badSignatures = receiver.requests.filter((r) => !r.signatureOk).length;
    problems.push(...streamProblems(entries, counts));
    if (dlq.total > 0) problems.push(`${dlq.total} entries dead-lettered`);
    if (sink.sink.distinct_keys !== entries) {
      problems.push(`${sink.sink.distinct_keys} of ${entries} entries reached the receiver`);
    }
    if (sink.sink.keys_delivered_more_than_once > 0) {
      problems.push(`${sink.sink.keys_delivered_more_than_once} entries delivered more than once`);
    }
    if (sink.untruthfulAttempts.length > 0) {
      problems.push(`untruthful attempt numbers for ${sink.untruthfulAttempts.length} keys`);
    }
    if (badSignatures > 0) problems.push(`${badSignatures} bad signatures`);
    return {
      scenario: "redis_oom_work",
      ok: problems.length === 0,
      ...streamPart(entries, counts),
      sink: sink.sink,
      dlq,
      recovery_seconds: recovery,
      seconds: secondsSince(started),
      problems,
      details: {
        fault_ms: faultMs,
        deliveries_before_fault: atFault,
        deliveries_during_fault: duringFault,
        filler_keys: filled.keys,
        oom_log_lines: named,
        bad_signatures: badSignatures,
        max_attempt: Math.max(0, ...receiver.requests.map((r) => r.attempt)),
      },
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop("SIGKILL")));
    redis.disconnect();
  }
}

/** Redis reaches maxmemory while `ingest produce` syncs. */
export const REDIS_OOM_PRODUCE: FaultScenario = {
  name: "redis_oom_produce",
  summary: "Redis full (noeviction) during produce: OOM named with the fix, resumes once freed, " +
    "every message once in the stream",
  run: runOomProduce,
};

/** Redis filled up while workers run handlers. */
export const REDIS_OOM_WORK: FaultScenario = {
  name: "redis_oom_work",
  summary: "Redis full while workers run a slow-ish webhook: each entry delivered once, " +
    "nothing dead-lettered, attempts truthful",
  run: runOomWork,
};
