/**
 * The `ingest` command tree: one small command object per subcommand.
 *
 * @module
 */

import { Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { VERSION } from "../src/version.ts";
import type { App } from "./app.ts";
import { settingOption } from "./setting_option.ts";
import { accountsCommand } from "./commands/accounts.ts";
import { authCommand } from "./commands/auth.ts";
import { examples } from "./commands/common.ts";
import { completionsCommand } from "./commands/completions.ts";
import { dlqCommand } from "./commands/dlq.ts";
import { groupCommand } from "./commands/group.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { metricsCommand } from "./commands/metrics.ts";
import { produceCommand } from "./commands/produce.ts";
import { stateCommand } from "./commands/state.ts";
import { streamCommand } from "./commands/stream.ts";
import { workCommand } from "./commands/work.ts";

/** Every subcommand, in help order. */
const COMMANDS: ReadonlyArray<(app: App) => CommandUnknownOpts> = [
  authCommand,
  accountsCommand,
  produceCommand,
  workCommand,
  stateCommand,
  streamCommand,
  groupCommand,
  dlqCommand,
  metricsCommand,
  doctorCommand,
  completionsCommand,
];

/** Builds the root command; actions run against `app`. */
export function buildProgram(app: App): CommandUnknownOpts {
  const program = new Command("ingest")
    .description("Ingest Gmail (IMAP, OAuth2) into Redis Streams and process it with workers.")
    .version(VERSION, "-V, --version")
    .option(
      "--env-file <path>",
      "read variables from this .env file; it must exist (default: ./.env, when there is one)",
    )
    .option("--no-env-file", "read no .env file (not even ./.env)")
    .addOption(settingOption("LOG_LEVEL"))
    .addOption(settingOption("LOG_FORMAT"))
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      examples(
        "ingest auth setup --account you@gmail.com",
        "ingest doctor",
        "ingest produce --once --dry-run | head",
        "ingest produce",
        "ingest work --sink file:emails.jsonl",
        "ingest stream inspect --json",
        "ingest stream peek --count 3",
        "ingest dlq list && ingest dlq replay --all",
        "ingest state reset --mailbox INBOX --to-uid 1200 --yes",
      ) +
        "\nConfiguration comes from flags, then the environment, then .env, then defaults.\nExit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.\n",
    )
    .hook("preAction", (root) => app.setGlobals(root.opts()));

  program.configureOutput({
    writeOut: (text) => app.runtime.stdout(text),
    writeErr: (text) => app.runtime.stderr(text),
  });
  for (const command of COMMANDS) program.addCommand(command(app));
  applyRecursively(program, (command) => {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => app.runtime.stdout(text),
      writeErr: (text) => app.runtime.stderr(text),
    });
  });
  return program;
}

function applyRecursively(
  command: CommandUnknownOpts,
  apply: (command: CommandUnknownOpts) => void,
): void {
  apply(command);
  for (const child of command.commands) applyRecursively(child, apply);
}
