import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { loadConfig } from "../src/config/config.ts";
import { passwordCredentials } from "../src/imap/credentials.ts";
import { silentLogger } from "../src/log/logger.ts";
import { startProducer } from "../src/producer/producer.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_PASSWORD, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("after a healthy connection the reconnect backoff starts again from its base", async () => {
  await using server = await startRedis();
  await using dovecot = await startDovecot();
  await dovecot.append(TEST_USER, "INBOX", await realisticMessage(1));
  const redis = new Redis(server.url);
  const stop = new AbortController();
  const BASE_MS = 200;
  const delays: number[] = [];
  const producer = startProducer({
    config: loadConfig({ env: pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url }) }),
    account: TEST_USER,
    credentials: passwordCredentials(TEST_USER, TEST_PASSWORD),
    redis,
    logger: silentLogger,
    signal: stop.signal,
    retry: { baseMs: BASE_MS, capMs: 20_000 },
    observer: {
      error: (_ref, _error, retryInMs) => retryInMs !== undefined && delays.push(retryInMs),
    },
  });
  const firstDelays: number[] = [];
  try {
    for (let cycle = 0; cycle < 3; cycle++) {
      await waitFor("IDLE", () => producer.status().mailboxes[0]!.state === "idle");
      const seen = delays.length;
      await dovecot.stop();
      await waitFor("the drop", () => delays.length > seen);
      firstDelays.push(delays[seen]!);
      await dovecot.start();
    }
    await waitFor("IDLE", () => producer.status().mailboxes[0]!.state === "idle");
  } finally {
    stop.abort();
    await producer.done;
    redis.disconnect();
  }
  console.log(`first reconnect delay after each healthy connection: ${firstDelays.join(", ")} ms`);
  // Full jitter: the first delay is 50-100 % of the base. Before, cycle n waited base × 2^n.
  for (const delay of firstDelays) assert.ok(delay <= BASE_MS, `${firstDelays}`);
});
