/**
 * Redis SIGKILLed (append-only, fsync always) while `ingest produce` follows
 * a mailbox that keeps receiving mail and two `ingest work` processes deliver
 * to a webhook, then restarted: nothing lost, nothing doubled in the stream,
 * every message at the receiver, any repeat carrying the same Idempotency-Key.
 *
 * @module
 */

import { Redis } from "ioredis";
import { startDovecot } from "../harness/dovecot.ts";
import { startFlakyReceiver } from "../harness/flaky_receiver.ts";
import { realisticMessage } from "../harness/mail.ts";
import { pipelineEnv, TEST_USER } from "../harness/pipeline_env.ts";
import { startRedis } from "../harness/redis_server.ts";
import { dlqCounts, groupBacklog, receiverRuns, sinkCounts, streamCounts } from "./counts.ts";
import { IngestProcess } from "./ingest_process.ts";
import type { FaultReport, FaultScenario, ScenarioOptions } from "./scenario.ts";
import { secondsSince, sleep, waitFor } from "./wait.ts";

const GROUP = "email_workers";

async function runRedisKill(options: ScenarioOptions): Promise<FaultReport> {
  const started = performance.now();
  const messages = options.quick ? 120 : 1000;
  const downMs = options.quick ? 2_000 : 10_000;
  const problems: string[] = [];
  await using dovecot = await startDovecot();
  await using server = await startRedis({
    args: ["--appendonly", "yes", "--appendfsync", "always"],
  });
  const secret = `faults-secret-${options.seed}`;
  await using receiver = startFlakyReceiver({ secret, delayMs: 40, seed: options.seed });
  // Commands wait for Redis to come back instead of failing while it is down.
  const redis = new Redis(server.port, "127.0.0.1", {
    maxRetriesPerRequest: null,
    retryStrategy: () => 100,
  });
  redis.on("error", () => {});
  const stream = "faults:redis:kill";
  const env = {
    ...pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream }),
    WEBHOOK_SECRET: secret,
  };
  const processes: IngestProcess[] = [];
  try {
    const first = Math.floor(messages / 2);
    const raw: Uint8Array[] = [];
    for (let i = 0; i < first; i++) raw.push(await realisticMessage(i + options.seed));
    await dovecot.seedMaildir(TEST_USER, "INBOX", raw);
    const producer = new IngestProcess(["produce", "--batch-size", "10", "--lease-ttl", "3"], env);
    processes.push(producer);
    for (const name of ["w1", "w2"]) {
      processes.push(
        new IngestProcess([
          "work",
          "--sink",
          `webhook:${receiver.url}`,
          "--consumer",
          name,
          "--concurrency",
          "4",
          "--visibility-timeout",
          "2",
        ], env),
      );
    }
    if (!await waitFor(() => receiver.requests.length >= messages / 8, 60_000)) {
      problems.push("the workers never started delivering");
    }
    const atKill = receiver.requests.length;
    await server.stop({ hard: true });
    options.log(`Redis SIGKILLed after ${atKill} deliveries; new mail arrives while it is down`);
    const downSince = performance.now();
    for (let i = first; i < messages; i++) {
      await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i + options.seed));
    }
    await sleep(Math.max(0, downMs - (performance.now() - downSince)));
    await server.start();
    const restartedAt = performance.now();
    const whole = await waitFor(
      async () => {
        const counts = await streamCounts(redis, stream);
        return counts.distinct >= messages && await groupBacklog(redis, stream, GROUP) === 0;
      },
      120_000,
      200,
    );
    const recovery = whole ? secondsSince(restartedAt) : null;
    if (!whole) problems.push("the pipeline did not become whole after the restart");
    await sleep(300);
    const unexpected = processes.filter((p) => p.exitCode !== undefined);
    if (unexpected.length > 0) problems.push(`${unexpected.length} ingest processes exited`);
    const exits = await Promise.all(processes.map((p) => p.stop("SIGTERM")));
    const counts = await streamCounts(redis, stream);
    const dlq = await dlqCounts(redis, `${stream}:dlq`);
    const sink = sinkCounts(receiverRuns(receiver.requests));
    const badSignatures = receiver.requests.filter((r) => !r.signatureOk).length;
    if (counts.distinct !== messages) {
      problems.push(`${counts.distinct} of ${messages} messages in the stream`);
    }
    if (counts.total !== counts.distinct) {
      problems.push(`${counts.total - counts.distinct} duplicate entries in the stream`);
    }
    // Every repeat at the receiver must carry a key it already saw: no key beyond the messages'.
    if (sink.sink.distinct_keys !== messages) {
      problems.push(`${sink.sink.distinct_keys} distinct keys at the receiver for ${messages}`);
    }
    if (sink.keysWithoutSuccess > 0) {
      problems.push(`${sink.keysWithoutSuccess} keys never succeeded`);
    }
    if (sink.untruthfulAttempts.length > 0) {
      problems.push(`untruthful attempt numbers for ${sink.untruthfulAttempts.length} keys`);
    }
    if (badSignatures > 0) problems.push(`${badSignatures} bad signatures`);
    if (dlq.total > 0) problems.push(`${dlq.total} entries dead-lettered`);
    return {
      scenario: "redis_kill_aof",
      ok: problems.length === 0,
      mailbox_messages: messages,
      distinct_entries: counts.distinct,
      duplicates: counts.total - counts.distinct,
      sink: sink.sink,
      dlq,
      recovery_seconds: recovery,
      seconds: secondsSince(started),
      problems,
      details: {
        down_ms: downMs,
        deliveries_before_kill: atKill,
        exit_codes: exits,
        bad_signatures: badSignatures,
        max_attempt: Math.max(0, ...receiver.requests.map((r) => r.attempt)),
      },
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop("SIGKILL")));
    redis.disconnect();
  }
}

/** Redis SIGKILL with AOF during produce and work. */
export const REDIS_KILL_AOF: FaultScenario = {
  name: "redis_kill_aof",
  summary: "Redis SIGKILLed (appendonly, fsync always) during produce and work, restarted: " +
    "nothing lost, repeats only with the same Idempotency-Key",
  run: runRedisKill,
};
