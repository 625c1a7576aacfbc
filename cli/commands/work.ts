/**
 * `ingest work`: read the stream through a consumer group and deliver each
 * entry to a sink, at least once, with retries and a dead-letter queue.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { App } from "../app.ts";
import { examples } from "./common.ts";
import { settingOption } from "../setting_option.ts";
import { healthHostOption, healthPortOption } from "./health_flags.ts";

/** Builds the `work` command. */
export function workCommand(app: App): Command {
  return new Command("work")
    .description(
      "Deliver stream entries to a sink through a consumer group, with retries and a DLQ",
    )
    .addOption(settingOption("WORKER_GROUP"))
    .option("--consumer <name>", "this consumer's name in the group (default: host name-pid)")
    .addOption(settingOption("WORKER_CONCURRENCY"))
    .addOption(settingOption("WORKER_READ_AHEAD"))
    .addOption(settingOption("WORKER_SINK"))
    .option(
      "--drain",
      "exit once nothing is new, pending or waiting for a retry (3 if entries were dead-lettered)",
    )
    .addOption(settingOption("WORKER_SHUTDOWN_TIMEOUT_SECONDS"))
    .addOption(settingOption("WORKER_VISIBILITY_TIMEOUT_SECONDS"))
    .addOption(settingOption("WORKER_CONSUMER_IDLE_TIMEOUT_SECONDS"))
    .addOption(settingOption("WORKER_MAX_ATTEMPTS"))
    .addOption(healthPortOption())
    .addOption(healthHostOption())
    .addHelpText(
      "after",
      examples(
        "ingest work --sink file:/var/lib/ingest/emails.jsonl",
        "ingest work --sink webhook:https://crm.internal/hooks/email --concurrency 32",
        "ingest work --sink file:/var/lib/ingest/emails.jsonl --concurrency 256 --read-ahead 256",
        "ingest work --sink 'exec:jq -c .payload.subject >> subjects.txt'",
        "ingest work --sink module:./handler.ts --max-attempts 8",
        "ingest work --drain --sink file:out.jsonl",
      ) +
        "\nSinks and delivery guarantees: docs/DELIVERY.md. Stops gracefully on SIGINT/SIGTERM.\n" +
        "Exit codes: 0 stopped, or drained with nothing dead-lettered; 1 runtime failure;\n" +
        "2 usage or configuration error; 3 drained, but entries were dead-lettered during\n" +
        "the run (see ingest dlq list).\n",
    )
    .action(async (options) => {
      const { runWork } = await import("./work_run.ts");
      await runWork(app, options);
    });
}
