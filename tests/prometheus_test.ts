import assert from "node:assert/strict";
import { bandwidthHour, bandwidthKey } from "../src/redis/keys.ts";
import { hashedAccountLabel } from "../src/metrics/account_label.ts";
import { execIngest, runIngest, spawnIngest } from "./harness/cli.ts";
import {
  exportedMetricNames,
  metricNamesIn,
  parseMetrics,
  sampleValue,
} from "./harness/metrics_text.ts";
import { freePort, waitForPort } from "./harness/ports.ts";
import { startRedis, type TestRedis } from "./harness/redis_server.ts";

const OPS = new URL("../ops/prometheus/", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

async function run(command: string, args: string[], stdin?: string) {
  const child = new Deno.Command(command, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    out: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

Deno.test("promtool accepts the shipped config and rules, and the alert unit tests pass", async () => {
  const config = await run("promtool", ["check", "config", `${OPS}prometheus.yml`]);
  assert.equal(config.code, 0, config.out);
  const rules = await run("promtool", ["check", "rules", `${OPS}alerts.yml`]);
  assert.equal(rules.code, 0, rules.out);
  const tests = await run("promtool", ["test", "rules", `${OPS}alerts_test.yml`]);
  assert.equal(tests.code, 0, tests.out);
});

Deno.test("alert rules name only metrics the project exports", async () => {
  const text = await Deno.readTextFile(`${OPS}alerts.yml`);
  const exprs = [...text.matchAll(/expr: (?:\|\n)?([\s\S]*?)\n\s+for:/g)].map((m) => m[1]!);
  assert.ok(exprs.length >= 8);
  const exported = exportedMetricNames();
  const unknown = exprs.flatMap((expr) =>
    metricNamesIn(expr).filter((name) => !exported.has(name))
  );
  assert.deepEqual(unknown, []);
});

Deno.test("every alert has a summary, a description and a runbook that exists", async () => {
  const text = await Deno.readTextFile(`${OPS}alerts.yml`);
  const alerts = [...text.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
  const runbooks = [...text.matchAll(/runbook_url: (\S+)/g)].map((m) => m[1]!);
  assert.equal(runbooks.length, alerts.length);
  assert.equal([...text.matchAll(/ summary: /g)].length, alerts.length);
  assert.equal([...text.matchAll(/ description: /g)].length, alerts.length);
  for (const runbook of new Set(runbooks)) {
    const stat = await Deno.stat(`${ROOT}${runbook}`);
    assert.ok(stat.isFile, runbook);
  }
  for (
    const required of [
      "IngestProducerSilent",
      "IngestImapIdleStale",
      "IngestConsumerLagGrowing",
      "IngestDlqGrowing",
      "IngestTokenRefreshFailing",
      "IngestGmailQuotaNearLimit",
      "IngestBacklogPaused",
      "IngestRedisExporterDown",
    ]
  ) assert.ok(alerts.includes(required), required);
});

/** A stream with a group that has read 2 of 5 entries, a DLQ entry, a cursor and downloads. */
async function seedPipeline(redis: TestRedis, stream: string): Promise<void> {
  for (let i = 0; i < 5; i++) await redis.cli("XADD", stream, "*", "type", "email", "n", String(i));
  await redis.cli("XADD", `${stream}:dlq`, "*", "type", "email");
  await redis.cli("XGROUP", "CREATE", stream, "workers", "0");
  await redis.cli("XREADGROUP", "GROUP", "workers", "w1", "COUNT", "2", "STREAMS", stream, ">");
  await redis.cli("XGROUP", "CREATE", stream, "archive", "$");
  await redis.cli("SET", "producer_state:ops@example.test:INBOX:last_uid", "17");
  await redis.cli("SET", "producer_state:ops@example.test:INBOX:total_emails", "5");
  await redis.cli(
    "SET",
    "producer_state:ops@example.test:INBOX:last_poll",
    new Date(Date.now() - 30_000).toISOString(),
  );
  await redis.cli("SET", bandwidthKey("ops@example.test", bandwidthHour(Date.now())), "123456");
}

Deno.test("a real Prometheus scrapes ingest metrics serve", async (t) => {
  await using redis = await startRedis();
  const stream = `p${crypto.randomUUID().slice(0, 8)}:stream`;
  await seedPipeline(redis, stream);
  const env = { REDIS_URL: redis.url, REDIS_STREAM_NAME: stream, ACCOUNT_ALIAS: "" };
  const port = freePort();
  const exporter = spawnIngest(["metrics", "serve", "--port", String(port)], { env });
  try {
    await waitForPort(port, 30_000);
    const scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const samples = parseMetrics(scrape);

    await t.step("promtool check metrics accepts a real scrape", async () => {
      const lint = await run("promtool", ["check", "metrics"], scrape);
      assert.equal(lint.code, 0, lint.out);
    });

    await t.step("depth and lag equal ingest stream inspect --json", async () => {
      const inspect = await runIngest(["stream", "inspect", "--json"], { env });
      assert.equal(inspect.code, 0, inspect.stderr);
      const report = JSON.parse(inspect.stdout);
      assert.equal(sampleValue(samples, "email_ingestion_stream_depth", { stream }), report.length);
      assert.equal(report.groups.length, 2);
      for (const group of report.groups) {
        const labels = { stream, group: group.name };
        assert.equal(sampleValue(samples, "email_ingestion_consumer_group_lag", labels), group.lag);
        assert.equal(
          sampleValue(samples, "email_ingestion_consumer_group_pending", labels),
          group.pending,
        );
      }
      assert.equal(
        sampleValue(samples, "email_ingestion_dlq_depth", { stream: report.dlq.stream }),
        report.dlq.length,
      );
    });

    await t.step("mailbox series carry a hashed account, never the address", () => {
      const account = hashedAccountLabel("ops@example.test");
      assert.equal(
        sampleValue(samples, "email_ingestion_mailbox_last_uid", { account, mailbox: "INBOX" }),
        17,
      );
      assert.equal(
        sampleValue(samples, "email_ingestion_imap_downloaded_last_24h_bytes", { account }),
        123456,
      );
      assert.ok(!scrape.includes("example.test"));
    });

    await t.step("Prometheus stores the exporter's series", async () => {
      await withPrometheus(port, async (query) => {
        const depth = await query(`email_ingestion_stream_depth{stream="${stream}"}`);
        assert.equal(depth.length, 1);
        assert.equal(depth[0]!.metric.job, "email_ingestion_metrics");
        assert.equal(Number(depth[0]!.value[1]), 5);
        const lag = await query(`email_ingestion_consumer_group_lag{group="workers"}`);
        assert.equal(Number(lag[0]!.value[1]), 3);
        const up = await query(`up{job="email_ingestion_metrics"}`);
        assert.equal(Number(up[0]!.value[1]), 1);
        const redisUp = await query("email_ingestion_redis_up");
        assert.equal(Number(redisUp[0]!.value[1]), 1);
      });
    });
  } finally {
    exporter.kill("SIGTERM");
    const result = await exporter.output();
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  }
});

Deno.test("ingest metrics serve fails fast with a clear message when Redis is unreachable", async () => {
  const result = await execIngest(["metrics", "serve", "--port", "0"], {
    env: { REDIS_URL: `redis://127.0.0.1:${freePort()}` },
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
});

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * Starts /usr/bin/prometheus on a loopback port with a temporary storage
 * directory, scraping 127.0.0.1:`target` every second, and hands `body` a
 * query function that waits (up to an overall deadline) until the query has
 * results.
 */
async function withPrometheus(
  target: number,
  body: (query: (expr: string) => Promise<PromSample[]>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ingest-prometheus-" });
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/prometheus.yml`,
    [
      "global:",
      "  scrape_interval: 1s",
      "  scrape_timeout: 1s",
      "scrape_configs:",
      "  - job_name: email_ingestion_metrics",
      "    static_configs:",
      `      - targets: ["127.0.0.1:${target}"]`,
      "",
    ].join("\n"),
  );
  const prometheus = new Deno.Command("prometheus", {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const deadline = Date.now() + 60_000;
  try {
    await waitForPort(port, 30_000);
    await body(async (expr) => {
      while (true) {
        const url = `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`;
        const response = await fetch(url).catch(() => undefined);
        if (response?.ok) {
          const json = await response.json();
          if (json.data?.result?.length > 0) return json.data.result as PromSample[];
        } else {
          await response?.body?.cancel();
        }
        if (Date.now() > deadline) throw new Error(`Prometheus has no result for ${expr}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    });
  } finally {
    prometheus.kill("SIGTERM");
    await prometheus.output();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
