/**
 * A flaky webhook receiver: some requests answered 500, some only after the
 * sink's timeout. Two workers (the real worker core and webhook sink, in this
 * process so the sink timeout can be short) must process every entry, never
 * repeat a delivery the receiver answered in time, pass truthful attempt
 * numbers and sign every body.
 *
 * @module
 */

import type { RedisClient } from "../../src/redis/client.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { createWebhookSink } from "../../src/sinks/webhook_sink.ts";
import { startWorker, type WorkerSummary } from "../../src/worker/worker.ts";
import { startFlakyReceiver } from "../harness/flaky_receiver.ts";
import { startRedis } from "../harness/redis_server.ts";
import { emailEntryFields } from "../../src/stream/entry.ts";
import { client, emailPayload, workerConfig } from "../worker_fixtures.ts";
import { dlqCounts, receiverRuns, sinkCounts, streamCounts } from "./counts.ts";
import type { FaultReport, FaultScenario, ScenarioOptions } from "./scenario.ts";
import { secondsSince } from "./wait.ts";

const SINK_TIMEOUT_MS = 400;

async function runWebhookFlaky(options: ScenarioOptions): Promise<FaultReport> {
  const started = performance.now();
  const entries = options.quick ? 60 : 400;
  const problems: string[] = [];
  await using server = await startRedis();
  const secret = `faults-secret-${options.seed}`;
  await using receiver = startFlakyReceiver({
    secret,
    failRate: 0.2,
    slowRate: 0.1,
    slowMs: SINK_TIMEOUT_MS * 3,
    delayMs: 10,
    seed: options.seed,
  });
  const stream = "faults:webhook:flaky";
  const config = workerConfig(server.url, stream, { WORKER_MAX_ATTEMPTS: "12" });
  const redis = await client(server.url);
  const connections: RedisClient[] = [];
  const stop = new AbortController();
  const guard = setTimeout(() => stop.abort(), options.quick ? 60_000 : 300_000);
  try {
    await redis.xgroup("CREATE", stream, config.worker.group, "0", "MKSTREAM");
    const batch = redis.pipeline();
    for (let uid = 1; uid <= entries; uid++) {
      batch.xadd(stream, "*", ...emailEntryFields(emailPayload(uid)));
    }
    await batch.exec();
    const sink = createWebhookSink({ url: receiver.url, secret, timeoutMs: SINK_TIMEOUT_MS });
    const workers = await Promise.all(["w1", "w2"].map(async (consumer) => {
      const [own, blocking] = [await client(server.url), await client(server.url)];
      connections.push(own, blocking);
      return startWorker({
        redis: own,
        blockingRedis: blocking,
        config,
        sink,
        consumer,
        concurrency: 4,
        drain: true,
        blockMs: 100,
        logger: silentLogger,
        signal: stop.signal,
      });
    }));
    const summaries: WorkerSummary[] = await Promise.all(workers.map((w) => w.done));
    if (stop.signal.aborted) problems.push("the workers did not drain in time");
    const counts = await streamCounts(redis, stream);
    const dlq = await dlqCounts(redis, config.redis.dlqStreamName);
    const sinkRuns = sinkCounts(receiverRuns(receiver.requests));
    const outcomes = { ok: 0, error: 0, slow: 0 };
    for (const request of receiver.requests) outcomes[request.outcome]++;
    const badSignatures = receiver.requests.filter((r) => !r.signatureOk).length;
    const processed = summaries.reduce((n, s) => n + s.processed, 0);
    if (outcomes.error === 0 || outcomes.slow === 0) problems.push("the receiver never failed");
    if (processed !== entries) problems.push(`${processed} of ${entries} entries processed`);
    if (sinkRuns.keysWithoutSuccess > 0) {
      problems.push(`${sinkRuns.keysWithoutSuccess} entries never answered in time`);
    }
    if (sinkRuns.sink.repeated_successes > 0) {
      problems.push(`${sinkRuns.sink.repeated_successes} deliveries repeated after a success`);
    }
    if (sinkRuns.untruthfulAttempts.length > 0) {
      problems.push(`untruthful attempt numbers for ${sinkRuns.untruthfulAttempts.length} keys`);
    }
    if (badSignatures > 0) problems.push(`${badSignatures} bad signatures`);
    if (dlq.total > 0) problems.push(`${dlq.total} entries dead-lettered`);
    return {
      scenario: "webhook_flaky",
      ok: problems.length === 0,
      mailbox_messages: entries,
      distinct_entries: counts.distinct,
      duplicates: counts.total - counts.distinct,
      sink: sinkRuns.sink,
      dlq,
      recovery_seconds: null,
      seconds: secondsSince(started),
      problems,
      details: {
        receiver_outcomes: outcomes,
        sink_timeout_ms: SINK_TIMEOUT_MS,
        bad_signatures: badSignatures,
        retries_scheduled: summaries.reduce((n, s) => n + s.retriesScheduled, 0),
        max_attempt: Math.max(0, ...receiver.requests.map((r) => r.attempt)),
      },
    };
  } finally {
    clearTimeout(guard);
    stop.abort();
    for (const c of [redis, ...connections]) c.disconnect();
  }
}

/** A flaky HTTP receiver behind the webhook sink. */
export const WEBHOOK_FLAKY: FaultScenario = {
  name: "webhook_flaky",
  summary: "webhook receiver answers 500 or past the sink timeout: every entry processed, " +
    "no repeat after a success, attempts truthful, signatures valid",
  run: runWebhookFlaky,
};
