import assert from "node:assert/strict";
import {
  exportedMetricLabels,
  exportedMetricNames,
  metricNamesIn,
} from "./harness/metrics_text.ts";

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

const dashboardText = await Deno.readTextFile(DASHBOARD);
const dashboard = JSON.parse(dashboardText);
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

interface Variable {
  type: string;
  name: string;
  query?: string | { query: string };
  datasource?: { type?: string; uid?: string };
  current?: { value?: unknown };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
const variables = dashboard.templating.list as Variable[];
const variable = (name: string) => variables.find((v) => v.name === name);
const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

Deno.test("every panel and query uses the dashboard's datasource variable", () => {
  const queried = panels.filter((panel) => panel.type !== "row");
  assert.ok(queried.length >= 15);
  for (const panel of queried) {
    assert.deepEqual(panel.datasource, DATASOURCE, panel.title);
    assert.ok((panel.targets ?? []).length > 0, `${panel.title} has queries`);
    for (const target of panel.targets ?? []) {
      assert.deepEqual(target.datasource, DATASOURCE, panel.title);
    }
  }
});

Deno.test("the dashboard imports through the UI: __inputs names the Prometheus datasource", () => {
  assert.deepEqual(
    (dashboard.__inputs as { name: string; type: string; pluginId: string }[]).map((input) => ({
      name: input.name,
      type: input.type,
      pluginId: input.pluginId,
    })),
    [{ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" }],
  );
  // Every ${DS_…} placeholder is declared, and the declared one is used.
  const placeholders = new Set([...dashboardText.matchAll(/\$\{(DS_[A-Z_]+)\}/g)].map((m) => m[1]));
  assert.deepEqual([...placeholders], ["DS_PROMETHEUS"]);
  const datasource = variable("datasource");
  assert.equal(datasource?.type, "datasource");
  assert.equal(datasource?.query, "prometheus");
  assert.equal(datasource?.current?.value, "${DS_PROMETHEUS}");
  // __requires lists the plugins the importer must have: every panel type used.
  const required = new Set(
    (dashboard.__requires as { type: string; id: string }[]).map((r) => `${r.type}:${r.id}`),
  );
  assert.ok(required.has("datasource:prometheus"));
  for (const type of new Set(panels.map((p) => p.type).filter((t) => t !== "row"))) {
    assert.ok(required.has(`panel:${type}`), `__requires has panel ${type}`);
  }
  // What Grafana's importer does: replace the input with the chosen datasource's UID.
  const imported = JSON.parse(dashboardText.replaceAll("${DS_PROMETHEUS}", "my-prom-uid"));
  const chosen = (imported.templating.list as Variable[]).find((v) => v.name === "datasource");
  assert.equal(chosen?.current?.value, "my-prom-uid");
});

Deno.test("account, mailbox and group variables filter every query on those labels", () => {
  const labels = exportedMetricLabels();
  for (const name of ["account", "mailbox", "group"]) {
    const v = variable(name);
    assert.ok(v, `variable ${name}`);
    assert.equal(v.type, "query");
    assert.deepEqual(v.datasource, DATASOURCE);
    assert.equal(v.multi, true);
    assert.equal(v.includeAll, true);
    assert.equal(v.allValue, ".*");
    const query = typeof v.query === "string" ? v.query : v.query?.query ?? "";
    const match = query.match(/^label_values\((\w+)(\{[^}]*\})?, (\w+)\)$/);
    assert.ok(match, `${name}: ${query}`);
    assert.equal(match[3], name);
    assert.ok(labels.get(match[1]!)?.includes(name), `${match[1]} has the label ${name}`);
  }
  // Each selector of a metric that has the label carries `label=~"$label"`.
  const missing: string[] = [];
  for (const target of targets) {
    for (const selector of target.expr.matchAll(/\b(email_ingestion_\w+)(\{[^}]*\})?/g)) {
      for (const name of ["account", "mailbox", "group"]) {
        if (!labels.get(selector[1]!)?.includes(name)) continue;
        if (!(selector[2] ?? "").includes(`${name}=~"$${name}"`)) {
          missing.push(`${name} in ${selector[0]}`);
        }
      }
    }
  }
  assert.deepEqual(missing, []);
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
        JSON.stringify(
          target.expr.replaceAll("$__rate_interval", "5m").replace(
            /\$(account|mailbox|group)\b/g,
            ".*",
          ),
        )
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
