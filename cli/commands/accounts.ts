/**
 * `ingest accounts add|list|show|remove`: the account registry a fleet
 * (`ingest produce --fleet`) follows. Never prints a secret. The registry's
 * modules load when a command runs, not for --help or other commands.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { AccountShowView } from "../../src/accounts/account_view.ts";
import { UsageError } from "../../src/errors.ts";
import type { App } from "../app.ts";
import { table } from "../output.ts";
import { ACCOUNT_FLAGS, confirm, examples, printResult } from "./common.ts";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Builds `accounts add`. */
function accountsAddCommand(app: App): Command {
  return new Command("add")
    .description("Register an account for the fleet (password sealed under INGEST_TOKEN_KEY)")
    .requiredOption(ACCOUNT_FLAGS, "the account's address (IMAP user)")
    .option("--auth <method>", "oauth2 or password (default: oauth2; on --update: unchanged)")
    .option("--password-stdin", "read the IMAP password from the first line of stdin")
    .option("--mailbox <name>", "mailbox to follow; repeat for several (default: INBOX)", collect)
    .option("--alias <name>", "label in logs and metrics instead of a hashed id")
    .option("--update", "change an already registered account (flags not given stay as stored)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples(
        "ingest accounts add --account support@example.com --alias support",
        "printf '%s\\n' \"$PASSWORD\" | ingest accounts add --account a@example.com --auth password --password-stdin",
        "ingest accounts add --account a@example.com --mailbox INBOX --mailbox Sent --update",
      ) +
        "\nAt most 15 mailboxes per account (Gmail's limit of 15 IMAP connections per account).\n" +
        "oauth2 accounts also need a token: ingest auth setup --account <email>.\n" +
        "Exit codes: 0 added or updated, 1 runtime failure, 2 usage error (every problem listed).\n",
    )
    .action(async (options) => {
      const { addAccount } = await import("../../src/accounts/account_admin.ts");
      const { accountShowView } = await import("../../src/accounts/account_view.ts");
      const { warnIfNoToken } = await import("./token_store_choice.ts");
      const problems: string[] = [];
      const config = await app.configCollecting({}, problems);
      const password = options.passwordStdin ? await app.runtime.readLine() ?? "" : undefined;
      if (config === undefined) {
        throw new UsageError(`Cannot add the account:\n  - ${problems.join("\n  - ")}`);
      }
      const redis = await app.redis(config, "ingest:accounts");
      const result = await addAccount(redis, {
        account: options.account,
        auth: options.auth,
        mailboxes: options.mailbox,
        alias: options.alias,
        password,
        tokenKeyConfigured: config.google.tokenKey !== undefined,
      }, { update: options.update === true, tokenKey: config.google.tokenKey });
      const view = accountShowView(result.record);
      printResult(
        app,
        options.json,
        { created: result.created, registry_version: result.version, ...view },
        () =>
          `${result.created ? "Added" : "Updated"} ${view.account} (${view.auth}, mailboxes: ` +
          `${view.mailboxes.join(", ")}). Registry version ${result.version}.\n`,
      );
      if (result.record.auth === "oauth2") await warnIfNoToken(app, config, result.record.account);
    });
}

/** Builds `accounts list`. */
function accountsListCommand(app: App): Command {
  return new Command("list")
    .description("List registered accounts with their fleet owner and state")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples(
        "ingest accounts list",
        "ingest accounts list --json | jq -r '.accounts[] | select(.state == \"needs_reauth\") | .account'",
      ) +
        "\nSTATE is syncing, idle, backing_off or needs_reauth as reported by the owning\n" +
        "process, or unassigned when no live fleet process holds the account.\n",
    )
    .action(async (options) => {
      const { listAccounts } = await import("../../src/accounts/registry.ts");
      const { readFleetView } = await import("../../src/accounts/fleet_view.ts");
      const { accountListView } = await import("../../src/accounts/account_view.ts");
      const config = await app.config();
      const redis = await app.redis(config, "ingest:accounts");
      const records = await listAccounts(redis);
      const fleet = await readFleetView(redis, records.map((r) => r.account));
      const views = records.map((r) => accountListView(r, fleet.get(r.account)));
      printResult(
        app,
        options.json,
        { accounts: views },
        () =>
          views.length === 0
            ? "No accounts registered. Add one: ingest accounts add --account <email>\n"
            : table(
              ["ACCOUNT", "ALIAS", "AUTH", "MAILBOXES", "OWNER", "STATE", "LAST_EVENT"],
              views.map((v) => [
                v.account,
                v.alias,
                v.auth,
                v.mailboxes.join(","),
                v.owner,
                v.state,
                v.last_event_at,
              ]),
            ),
      );
    });
}

function showText(view: AccountShowView): string {
  const rows: [string, string][] = [
    ["account", view.account],
    ["alias", view.alias ?? "-"],
    ["auth", view.auth],
    ["mailboxes", view.mailboxes.join(", ")],
    ["password", view.auth === "password" ? (view.password_stored ? "sealed" : "MISSING") : "-"],
    ["added_at", view.added_at],
    ["owner", view.owner ?? "-"],
    ["state", view.state],
    ["last_event_at", view.last_event_at ?? "-"],
  ];
  return rows.map(([key, value]) => `${key.padEnd(14)}${value}`).join("\n") + "\n";
}

/** Builds `accounts show`. */
function accountsShowCommand(app: App): Command {
  return new Command("show")
    .description("Show one registered account (never its password)")
    .requiredOption(ACCOUNT_FLAGS, "the account's address")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples("ingest accounts show --account a@example.com --json") +
        "\nExit codes: 0 shown, 1 not registered or runtime failure, 2 usage error.\n",
    )
    .action(async (options) => {
      const { addressProblems } = await import("../../src/accounts/account_input.ts");
      const { notRegistered } = await import("../../src/accounts/account_admin.ts");
      const { getAccount } = await import("../../src/accounts/registry.ts");
      const { readFleetView } = await import("../../src/accounts/fleet_view.ts");
      const { accountShowView } = await import("../../src/accounts/account_view.ts");
      const problems = addressProblems(options.account);
      const config = await app.configCollecting({}, problems);
      if (config === undefined || problems.length > 0) {
        throw new UsageError(`Cannot show the account:\n  - ${problems.join("\n  - ")}`);
      }
      const redis = await app.redis(config, "ingest:accounts");
      const record = await getAccount(redis, options.account);
      if (record === undefined) throw notRegistered(options.account);
      const fleet = await readFleetView(redis, [record.account]);
      const view = accountShowView(record, fleet.get(record.account));
      printResult(app, options.json, view, () => showText(view));
    });
}

/** Builds `accounts remove`. */
function accountsRemoveCommand(app: App): Command {
  return new Command("remove")
    .description(
      "Remove an account from the registry; its fleet producer stops within the lease TTL",
    )
    .requiredOption(ACCOUNT_FLAGS, "the account's address")
    .option(
      "--purge-state",
      "also delete its cursor, lease, published index, backfill and events state of every mailbox",
    )
    .option("--yes", "do not ask for confirmation (required when not on a terminal)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples(
        "ingest accounts remove --account a@example.com --yes",
        "ingest accounts remove --account a@example.com --purge-state --yes --json",
      ) +
        "\nWithout --purge-state the cursor stays, so adding the account again resumes where it\n" +
        "stopped. Its OAuth2 token stays too: ingest auth revoke --account <email>.\n" +
        "Exit codes: 0 removed or declined, 1 not registered or runtime failure, 2 usage error.\n",
    )
    .action(async (options) => {
      const { addressProblems } = await import("../../src/accounts/account_input.ts");
      const { removeAccountFully } = await import("../../src/accounts/account_admin.ts");
      const problems = addressProblems(options.account);
      const config = await app.configCollecting({}, problems);
      if (!options.yes && !app.runtime.interactive) {
        problems.push("refusing to remove without --yes when not on a terminal");
      }
      if (config === undefined || problems.length > 0) {
        throw new UsageError(`Cannot remove the account:\n  - ${problems.join("\n  - ")}`);
      }
      const purge = options.purgeState === true;
      const question = `Remove ${options.account} from the registry${
        purge ? " and delete its cursor (re-adding it fetches its mail again)" : ""
      }?`;
      if (!options.yes && !(await confirm(app, question))) {
        app.runtime.stderr("Aborted: nothing changed.\n");
        return;
      }
      const redis = await app.redis(config, "ingest:accounts");
      const result = await removeAccountFully(redis, options.account, { purgeState: purge });
      printResult(app, options.json, {
        account: result.record.account,
        removed: true,
        purge_state: purge,
        purged_keys: result.purgedKeys,
      }, () =>
        `Removed ${result.record.account}` +
        (purge ? `; deleted ${result.purgedKeys} state keys.\n` : "; its cursor is kept.\n"));
    });
}

/** Builds the `accounts` command group. */
export function accountsCommand(app: App): Command {
  const accounts = new Command("accounts").description(
    "The account registry of a fleet: add, list, show, remove accounts",
  );
  accounts.addCommand(accountsAddCommand(app));
  accounts.addCommand(accountsListCommand(app));
  accounts.addCommand(accountsShowCommand(app));
  accounts.addCommand(accountsRemoveCommand(app));
  return accounts;
}
