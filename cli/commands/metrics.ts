/**
 * `ingest metrics serve`: a standalone Prometheus exporter of what lives in
 * Redis (the wiring is in src/health/command_health.ts).
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { UsageError } from "../../src/errors.ts";
import { DEFAULT_PORTS } from "../../src/health/ports.ts";
import type { App } from "../app.ts";
import { wholeNumberProblem } from "../whole_number.ts";
import { flagSettings, settingOption } from "../setting_option.ts";
import { examples, printResult } from "./common.ts";

function parsePort(raw: string): number {
  const bounds = { min: 0, max: 65535, note: " (0 picks a free port)" };
  const problem = wholeNumberProblem("--port", raw, bounds);
  if (problem !== undefined) throw new UsageError(problem);
  return Number(raw);
}

/** Builds the `metrics` command group. */
export function metricsCommand(app: App): Command {
  const metrics = new Command("metrics").description("Prometheus metrics of the pipeline");
  metrics.command("serve")
    .description(
      "Export what lives in Redis (stream depth, group lag/pending/oldest age, DLQ depth, " +
        "per-mailbox last poll age and totals, 24 h downloads) for Prometheus, until stopped",
    )
    .option(
      "--port <port>",
      "port to listen on (0 picks a free one)",
      String(DEFAULT_PORTS.exporter),
    )
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .addOption(settingOption("REDIS_STREAM_NAME", "stream to watch"))
    .option("--json", "print the listening address as JSON")
    .addHelpText(
      "after",
      examples(
        "ingest metrics serve",
        "ingest metrics serve --port 9464 --host 10.0.0.5",
        `curl -s http://127.0.0.1:${DEFAULT_PORTS.exporter}/metrics | grep email_ingestion_stream_depth`,
      ) +
        "\nEndpoints: /metrics (Prometheus text), /ready (Redis reachable), /status (JSON), /health.\n" +
        "Stops on SIGINT/SIGTERM.\n",
    )
    .action(async (options) => {
      const port = parsePort(options.port);
      const config = await app.config(flagSettings(options, ["REDIS_STREAM_NAME"]));
      // The exporter (prom-client) loads only when it is started, not for --help.
      const { startExporter } = await import("../../src/health/command_health.ts");
      const server = startExporter({
        config,
        redis: await app.redis(config, "ingest:metrics"),
        host: options.host,
        port,
        logger: app.logger(config),
        signal: app.runtime.signal,
      });
      printResult(
        app,
        options.json,
        { url: server.url, metrics_url: `${server.url}/metrics`, stream: config.redis.streamName },
        () =>
          `Serving metrics of ${config.redis.streamName} on ${server.url}/metrics (Ctrl-C to stop)\n`,
      );
      await server.finished;
    });
  return metrics;
}
