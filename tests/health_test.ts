import assert from "node:assert/strict";
import { ConfigError } from "../src/errors.ts";
import { silentLogger } from "../src/log/logger.ts";
import { startHealthServer } from "../src/health/server.ts";
import { createMetricsRegistry } from "../src/metrics/registry.ts";
import { createWorkerMetrics } from "../src/metrics/worker.ts";
import { VERSION } from "../src/version.ts";
import { runIngest } from "./harness/cli.ts";
import { freePort, waitForPort } from "./harness/ports.ts";
import { startRedis } from "./harness/redis_server.ts";

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
  assert.equal(JSON.parse(finished.stdout).metrics_url, `http://127.0.0.1:${port}/metrics`);
});
