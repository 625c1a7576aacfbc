/**
 * `ingest produce`: follow Gmail (or any IMAP) mailboxes and commit every
 * message to the Redis Stream exactly once. The command's flags and help;
 * the run itself is in produce_run.ts, loaded when the command runs.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import type { App } from "../app.ts";
import { ACCOUNT_FLAGS, examples } from "./common.ts";
import { settingOption } from "../setting_option.ts";
import { healthHostOption, healthPortOption } from "./health_flags.ts";

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Builds the `produce` command. */
export function produceCommand(app: App): Command {
  return new Command("produce")
    .description("Follow IMAP mailboxes and publish every message to the Redis Stream exactly once")
    .option(ACCOUNT_FLAGS, "account address (default: IMAP_USER)")
    .option(
      "--mailbox <name>",
      "mailbox to follow; repeat for several (default: IMAP_MAILBOX)",
      collect,
    )
    .addOption(settingOption("BATCH_SIZE"))
    .addOption(settingOption("POLL_INTERVAL_SECONDS"))
    .addOption(settingOption("MAX_MESSAGE_BYTES"))
    .addOption(settingOption("EVENTS"))
    .option(
      "--dry-run",
      "fetch and parse, print JSON lines of what would be published; write nothing",
    )
    .option("--once", "sync every mailbox until caught up, then exit")
    .option("--idle", "use IMAP IDLE when the server offers it (default)")
    .option("--no-idle", "poll every --poll-interval seconds instead of IDLE")
    .addOption(
      new Option("--start <all|latest|DATE>", "what a mailbox without state ingests first")
        .default("all"),
    )
    .addOption(settingOption("PRODUCER_LEASE_TTL_SECONDS"))
    .option(
      "--fleet",
      "follow this process's fair share of the account registry (ingest accounts) instead of one account",
    )
    .addOption(settingOption("FLEET_MAX_ACCOUNTS"))
    .addOption(healthPortOption())
    .addOption(healthHostOption())
    .addHelpText(
      "after",
      examples(
        "ingest produce --account me@gmail.com",
        "ingest produce --mailbox INBOX --mailbox '[Gmail]/Sent Mail' --start latest",
        "ingest produce --once --batch-size 200",
        "ingest produce --events new,updated,deleted   # also flag/label changes and deletions",
        "ingest produce --dry-run --once | jq .subject",
        "ingest produce --fleet --max-accounts 500 --lease-ttl 30",
      ) +
        "\nExit codes: 0 stopped cleanly or caught up (--once), 1 a mailbox failed or was parked,\n2 usage or configuration error.\n",
    )
    .action(async (options) => {
      // The implementation (IMAP, Redis, MIME parsing) loads only when produce runs, not for --help.
      const { runProduce } = await import("./produce_run.ts");
      await runProduce(app, options);
    });
}
