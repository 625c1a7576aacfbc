import assert from "node:assert/strict";
import { App } from "../cli/app.ts";
import { buildProgram } from "../cli/program.ts";
import { VARIABLES } from "../src/config/variables.ts";
import { DEFAULT_PORTS, HEALTH_PATHS } from "../src/health/ports.ts";

// One set of ports: the code's defaults, the systemd units, the Prometheus
// scrape config and the docs must all say the same thing.

const ROOT = new URL("../", import.meta.url).pathname;
const read = (path: string) => Deno.readTextFile(`${ROOT}${path}`);

/** Every `Environment=NAME=value` of a unit. */
function unitEnvironment(unit: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const match of unit.matchAll(/^Environment=(\w+)=(\S*)$/gm)) env.set(match[1]!, match[2]!);
  return env;
}

/** `--flag value` pairs of the unit's ExecStart line. */
function execStartFlags(unit: string): Map<string, string> {
  const line = unit.match(/^ExecStart=(.*)$/m)?.[1] ?? "";
  const words = line.split(/\s+/);
  const flags = new Map<string, string>();
  words.forEach((word, i) => {
    if (word.startsWith("--") && words[i + 1] && !words[i + 1]!.startsWith("--")) {
      flags.set(word, words[i + 1]!);
    }
  });
  return flags;
}

/** job name -> its static targets and metrics_path, from ops/prometheus/prometheus.yml. */
function scrapeJobs(yaml: string): Map<string, { targets: string[]; path: string }> {
  const jobs = new Map<string, { targets: string[]; path: string }>();
  for (const block of yaml.split(/^\s*- job_name:/m).slice(1)) {
    const name = block.match(/^\s*(\S+)/)?.[1] ?? "";
    const targets = [...(block.match(/targets:\s*\[([^\]]*)\]/)?.[1] ?? "").matchAll(/"([^"]+)"/g)]
      .map((m) => m[1]!);
    jobs.set(name, { targets, path: block.match(/metrics_path:\s*(\S+)/)?.[1] ?? "/metrics" });
  }
  return jobs;
}

function metricsServeDefault(option: "--port" | "--host"): string {
  const noop = () => {};
  const program = buildProgram(
    new App({
      env: {},
      stdout: noop,
      stderr: noop,
      readLine: () => Promise.resolve(null),
      interactive: false,
      stderrIsTerminal: false,
      signal: new AbortController().signal,
    }),
  );
  const serve = program.commands.find((c) => c.name() === "metrics")?.commands
    .find((c) => c.name() === "serve");
  const found = serve?.options.find((o) => o.long === option);
  assert.ok(found, `metrics serve has ${option}`);
  return String(found.defaultValue);
}

Deno.test("the code's default ports are one block that avoids Prometheus, Redis and IMAP", () => {
  const healthDefault = VARIABLES.find((v) => v.name === "HEALTH_PORT")?.default;
  assert.equal(healthDefault, String(DEFAULT_PORTS.produce));
  assert.equal(metricsServeDefault("--port"), String(DEFAULT_PORTS.exporter));
  assert.equal(metricsServeDefault("--host"), "127.0.0.1");
  const ports = Object.values(DEFAULT_PORTS);
  assert.equal(new Set(ports).size, ports.length, "no two defaults collide");
  for (const port of ports) assert.ok(![9090, 6379, 143, 993].includes(port), `${port} is taken`);
});

Deno.test("systemd units and prometheus.yml use the default ports, on loopback, and real paths", async () => {
  const produce = await read("docs/systemd/ingest-produce.service");
  const work = await read("docs/systemd/ingest-work.service");
  const exporter = await read("docs/systemd/ingest-metrics.service");
  assert.equal(unitEnvironment(produce).get("HEALTH_PORT"), String(DEFAULT_PORTS.produce));
  assert.equal(unitEnvironment(work).get("HEALTH_PORT"), String(DEFAULT_PORTS.work));
  for (const unit of [produce, work]) {
    const host = unitEnvironment(unit).get("HEALTH_HOST");
    assert.ok(host === undefined || host === "127.0.0.1", `health host ${host}`);
  }
  const flags = execStartFlags(exporter);
  assert.equal(flags.get("--port"), String(DEFAULT_PORTS.exporter));
  assert.equal(flags.get("--host"), "127.0.0.1");

  const jobs = scrapeJobs(await read("ops/prometheus/prometheus.yml"));
  const expected: Record<string, number> = {
    email_ingestion_produce: DEFAULT_PORTS.produce,
    email_ingestion_work: DEFAULT_PORTS.work,
    email_ingestion_metrics: DEFAULT_PORTS.exporter,
  };
  assert.deepEqual([...jobs.keys()].sort(), Object.keys(expected).sort());
  for (const [job, port] of Object.entries(expected)) {
    assert.deepEqual(jobs.get(job)?.targets, [`127.0.0.1:${port}`], job);
    assert.ok((HEALTH_PATHS as readonly string[]).includes(jobs.get(job)!.path), job);
  }

  // Endpoint paths named in the units' comments exist (no `/live`).
  for (const unit of [produce, work, exporter]) {
    for (const match of unit.matchAll(/(?<=[\s,(])\/([a-z]+)(?=[\s,.)]|$)/gm)) {
      assert.ok((HEALTH_PATHS as readonly string[]).includes(`/${match[1]}`), `/${match[1]}`);
    }
  }
});

Deno.test("runbooks and docs point curl at the default ports only", async () => {
  const allowed = new Set(Object.values(DEFAULT_PORTS).map(String));
  const files = ["README.md", "docs/OBSERVABILITY.md"];
  for await (const entry of Deno.readDir(`${ROOT}docs/runbooks`)) {
    files.push(`docs/runbooks/${entry.name}`);
  }
  let seen = 0;
  for (const file of files) {
    for (const match of (await read(file)).matchAll(/https?:\/\/127\.0\.0\.1:(\d+)/g)) {
      seen++;
      assert.ok(allowed.has(match[1]!), `${file} uses port ${match[1]}`);
    }
  }
  assert.ok(seen > 5, "the runbooks' curl lines were found");
});
