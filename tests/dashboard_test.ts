import assert from "node:assert/strict";
import { exportedMetricNames, metricNamesIn } from "./harness/metrics_text.ts";

const DASHBOARD = new URL("../ops/grafana/dashboard.json", import.meta.url).pathname;

interface Target {
  expr: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
const panels = allPanels(dashboard.panels as Panel[]);
const targets = panels.flatMap((panel) => panel.targets ?? []);

Deno.test("metricNamesIn finds metric names, not functions, labels or keywords", () => {
  assert.deepEqual(
    metricNamesIn(
      'sum by (le, group) (rate(a_bucket{job=~"x.*"}[5m])) / on () group_left () max(b) and c offset 5m > bool 0.8',
    ),
    ["a_bucket", "b", "c"],
  );
});

Deno.test("every panel queries the Prometheus datasource with uid PROMETHEUS_DS", () => {
  const queried = panels.filter((panel) => panel.type !== "row");
  assert.ok(queried.length >= 15);
  for (const panel of queried) {
    assert.deepEqual(panel.datasource, { type: "prometheus", uid: "PROMETHEUS_DS" }, panel.title);
    assert.ok((panel.targets ?? []).length > 0, `${panel.title} has queries`);
    for (const target of panel.targets ?? []) {
      assert.deepEqual(target.datasource, panel.datasource, panel.title);
    }
  }
});

Deno.test("every panel's query names only metrics the project exports", () => {
  const exported = exportedMetricNames();
  const unknown = targets.flatMap((target) =>
    metricNamesIn(target.expr).filter((name) => !exported.has(name)).map((name) =>
      `${name} in ${target.expr}`
    )
  );
  assert.deepEqual(unknown, []);
});

Deno.test("the dashboard covers throughput, latency, lag, DLQ, IMAP health and quota", () => {
  const used = new Set(targets.flatMap((target) => metricNamesIn(target.expr)));
  for (
    const name of [
      "email_ingestion_emails_produced_total",
      "email_ingestion_emails_processed_total",
      "email_ingestion_processing_latency_seconds_bucket",
      "email_ingestion_end_to_end_latency_seconds_bucket",
      "email_ingestion_consumer_group_lag",
      "email_ingestion_dlq_depth",
      "email_ingestion_imap_connection_state",
      "email_ingestion_imap_server_silence_seconds",
      "email_ingestion_imap_downloaded_last_24h_bytes",
    ]
  ) assert.ok(used.has(name), name);
});

Deno.test("every panel query is valid PromQL (checked by promtool)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ingest-dashboard-" });
  try {
    const rules = targets.map((target, i) =>
      `      - record: dashboard:query_${i}\n        expr: ${
        JSON.stringify(target.expr.replaceAll("$__rate_interval", "5m"))
      }`
    );
    await Deno.writeTextFile(
      `${dir}/rules.yml`,
      `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`,
    );
    const output = await new Deno.Command("promtool", {
      args: ["check", "rules", `${dir}/rules.yml`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("docs/OBSERVABILITY.md documents every metric the project defines", async () => {
  const doc = await Deno.readTextFile(new URL("../docs/OBSERVABILITY.md", import.meta.url));
  const missing = [...exportedMetricNames()]
    .filter((name) => name.startsWith("email_ingestion_"))
    .filter((name) => !/_(bucket|sum|count)$/.test(name))
    .filter((name) => !doc.includes(`\`${name}\``));
  assert.deepEqual(missing, []);
});
