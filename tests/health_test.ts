import assert from "node:assert/strict";
import { ConfigError } from "../src/errors.ts";
import { silentLogger } from "../src/log/logger.ts";
import { startHealthServer } from "../src/health/server.ts";
import { createMetricsRegistry } from "../src/metrics/registry.ts";
import { createWorkerMetrics } from "../src/metrics/worker.ts";
import { VERSION } from "../src/version.ts";
import { runIngest, spawnIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { parseMetrics, sampleValue } from "./harness/metrics_text.ts";
import { assertMatchesSchema } from "./harness/json_schema.ts";
import { freePort, waitForPort } from "./harness/ports.ts";
import { startRedis } from "./harness/redis_server.ts";
import { pipelineEnv } from "./harness/pipeline_env.ts";

function server(overrides: Partial<Parameters<typeof startHealthServer>[0]> = {}) {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  createWorkerMetrics(registry, { group: "g" }).handled?.("processed", 0.01, 1);
  return startHealthServer({
    port: 0,
    registry,
    ready: () => Promise.resolve({ ready: true, checks: { redis: { ok: true } } }),
    status: () => Promise.resolve({ lag: 3, last_error: null }),
    logger: silentLogger,
    ...overrides,
  });
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.text() };
}

Deno.test("the health server answers /health, /ready, /status and /metrics on loopback", async () => {
  await using health = server();
  assert.equal(health.host, "127.0.0.1");
  assert.ok(health.port > 0);

  const alive = await get(`${health.url}/health`);
  assert.equal(alive.status, 200);
  assert.deepEqual(JSON.parse(alive.body), { status: "ok" });

  const ready = await get(`${health.url}/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(JSON.parse(ready.body), { ready: true, checks: { redis: { ok: true } } });

  const status = await get(`${health.url}/status`);
  assert.equal(status.status, 200);
  const body = JSON.parse(status.body);
  assert.equal(body.version, VERSION);
  assert.equal(typeof body.uptime_seconds, "number");
  assert.equal(body.lag, 3);
  assert.equal(body.last_error, null);

  const response = await fetch(`${health.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  assert.match(await response.text(), /^email_ingestion_emails_processed_total\{group="g"\} 1$/m);
});

Deno.test("/ready answers 503 with the reasons when a check fails, throws or hangs", async () => {
  await using notReady = server({
    ready: () =>
      Promise.resolve({ ready: false, checks: { imap: { ok: false, detail: "INBOX parked" } } }),
  });
  const parked = await get(`${notReady.url}/ready`);
  assert.equal(parked.status, 503);
  assert.equal(JSON.parse(parked.body).checks.imap.detail, "INBOX parked");

  await using throwing = server({ ready: () => Promise.reject(new Error("Redis is gone")) });
  const thrown = await get(`${throwing.url}/ready`);
  assert.equal(thrown.status, 503);
  assert.match(JSON.parse(thrown.body).error, /Redis is gone/);

  await using hanging = server({ ready: () => new Promise(() => {}), timeoutMs: 100 });
  const hung = await get(`${hanging.url}/ready`);
  assert.equal(hung.status, 503);
  assert.match(JSON.parse(hung.body).error, /did not finish within 100 ms/);
});

Deno.test("unknown paths get 404 with the endpoint list, and other methods 405", async () => {
  await using health = server();
  const missing = await get(`${health.url}/nope`);
  assert.equal(missing.status, 404);
  assert.deepEqual(JSON.parse(missing.body).endpoints, [
    "/health",
    "/ready",
    "/status",
    "/metrics",
  ]);
  const post = await get(`${health.url}/ready`, { method: "POST" });
  assert.equal(post.status, 405);
});

Deno.test("a port in use is a configuration error that names the setting", async () => {
  await using first = server();
  assert.throws(
    () => server({ port: first.port }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message.includes(`127.0.0.1:${first.port} is already in use`) &&
      error.message.includes("--health-port / HEALTH_PORT"),
  );
});

Deno.test("aborting the signal stops the server", async () => {
  const controller = new AbortController();
  const health = server({ signal: controller.signal });
  assert.equal((await get(`${health.url}/health`)).status, 200);
  controller.abort();
  await health.finished;
  await assert.rejects(fetch(`${health.url}/health`));
});

Deno.test("ingest metrics serve rejects a bad or busy port with exit code 2", async () => {
  await using redis = await startRedis();
  const env = { REDIS_URL: redis.url };
  const bad = await runIngest(["metrics", "serve", "--port", "http"], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--port must be a whole number 0\.\.65535/);

  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    const result = await runIngest(["metrics", "serve", "--port", String(port)], { env });
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      new RegExp(`127\\.0\\.0\\.1:${port} is already in use \\(--port\\)`),
    );
  } finally {
    busy.close();
  }
});

Deno.test("ingest metrics serve serves until its signal is aborted, then exits 0", async () => {
  await using redis = await startRedis();
  const controller = new AbortController();
  const port = freePort();
  const run = runIngest(["metrics", "serve", "--port", String(port), "--json"], {
    env: { REDIS_URL: redis.url },
    signal: controller.signal,
  });
  await waitForPort(port);
  const ready = await get(`http://127.0.0.1:${port}/ready`);
  assert.equal(ready.status, 200, ready.body);
  controller.abort();
  const finished = await run;
  assert.equal(finished.code, 0, finished.stderr);
  const listening = JSON.parse(finished.stdout);
  await assertMatchesSchema("metrics_serve", listening);
  assert.equal(listening.metrics_url, `http://127.0.0.1:${port}/metrics`);
});

/** Polls `check` until it holds; fails naming `what` after an overall deadline. */
async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopProcess(child: Deno.ChildProcess): Promise<{ code: number; stderr: string }> {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  const output = await child.output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("ingest produce and ingest work serve metrics, /ready and /status against Dovecot", async (t) => {
  await using dovecot = await startDovecot();
  await using redis = await startRedis();
  const user = dovecot.users[0]!;
  const stream = `health-${crypto.randomUUID().slice(0, 8)}`;
  for (let i = 0; i < 5; i++) await dovecot.append(user.user, "INBOX", await realisticMessage(i));
  const env = {
    ...pipelineEnv({
      imapPort: dovecot.port,
      redisUrl: redis.url,
      stream,
      user: user.user,
      password: user.password,
      logLevel: "warn",
    }),
    ACCOUNT_ALIAS: "alice",
  };
  const producePort = freePort();
  const workPort = freePort();
  const out = await Deno.makeTempFile({ suffix: ".jsonl" });
  const producer = spawnIngest(["produce", "--health-port", String(producePort)], { env });
  const worker = spawnIngest(
    ["work", "--health-port", String(workPort), "--sink", `file:${out}`],
    { env },
  );
  const produce = `http://127.0.0.1:${producePort}`;
  const work = `http://127.0.0.1:${workPort}`;
  const labels = { account: "alice", mailbox: "INBOX" };
  try {
    await waitForPort(producePort, 30_000);
    await waitForPort(workPort, 30_000);

    await t.step("after mail flows, /metrics shows the seed's counters above zero", async () => {
      await until("5 emails produced and processed", async () => {
        const produced = parseMetrics((await get(`${produce}/metrics`)).body);
        const processed = parseMetrics((await get(`${work}/metrics`)).body);
        return sampleValue(produced, "email_ingestion_emails_produced_total", labels) === 5 &&
          sampleValue(processed, "email_ingestion_emails_processed_total") === 5;
      });
      const text = (await get(`${produce}/metrics`)).body;
      const samples = parseMetrics(text);
      assert.ok(
        sampleValue(samples, "email_ingestion_imap_poll_duration_seconds_count", {
          ...labels,
          outcome: "ok",
        })! >= 1,
      );
      // Redis-derived gauges may lag a scrape by the 1 s snapshot reuse.
      const xlen = async () => Number((await redis.cli("XLEN", stream)).trim());
      await until("stream depth equals XLEN", async () => {
        const now = parseMetrics((await get(`${produce}/metrics`)).body);
        return sampleValue(now, "email_ingestion_stream_depth", { stream }) === await xlen();
      });
      assert.ok(!text.includes(user.user), "no address in the producer's metrics");
      const worked = parseMetrics((await get(`${work}/metrics`)).body);
      assert.equal(sampleValue(worked, "email_ingestion_processing_latency_seconds_count"), 5);
      assert.equal(sampleValue(worked, "email_ingestion_end_to_end_latency_seconds_count"), 5);
    });

    await t.step("/ready is 200 on both, /status reports mailboxes, lag and DLQ", async () => {
      await until("producer ready", async () => (await get(`${produce}/ready`)).status === 200);
      assert.equal((await get(`${work}/ready`)).status, 200);
      const status = JSON.parse((await get(`${produce}/status`)).body);
      await assertMatchesSchema("produce_status", status);
      assert.equal(typeof status.version, "string");
      assert.equal(status.producer.mailboxes[0].mailbox, "INBOX");
      assert.equal(status.pipeline.stream, stream);
      assert.equal(typeof status.pipeline.length, "number");
      assert.equal(status.pipeline.dlq.length, 0);
      const workStatus = JSON.parse((await get(`${work}/status`)).body);
      await assertMatchesSchema("work_status", workStatus);
      assert.equal(workStatus.worker.state, "running");
      // snake_case everywhere in /status (issue 12)
      assert.equal(workStatus.worker.in_flight, 0);
      assert.equal(workStatus.worker.counts.processed, 5);
      assert.equal(workStatus.worker.counts.dead_lettered, 0);
      assert.equal(typeof workStatus.worker.last_heartbeat_at, "string");
      assert.equal(typeof workStatus.worker.started_at, "string");
      assert.equal(workStatus.worker.last_error, null);
      assert.equal(workStatus.worker.inFlight, undefined);
      assert.equal(workStatus.pipeline.groups[0].lag, 0);
    });

    await t.step("/ready turns 503 after Dovecot stops and 200 after it returns", async () => {
      await dovecot.stop();
      await until("producer not ready", async () => (await get(`${produce}/ready`)).status === 503);
      const body = JSON.parse((await get(`${produce}/ready`)).body);
      assert.equal(body.checks.redis.ok, true);
      assert.equal(body.checks.mailboxes[0].ok, false);
      await dovecot.start();
      await until(
        "producer ready again",
        async () => (await get(`${produce}/ready`)).status === 200,
        60_000,
      );
    });
  } finally {
    const [p, w] = await Promise.all([stopProcess(producer), stopProcess(worker)]);
    await Deno.remove(out).catch(() => {});
    assert.equal(p.code, 0, p.stderr);
    assert.equal(w.code, 0, w.stderr);
  }
});
