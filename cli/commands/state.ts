/**
 * `ingest state get|list|reset`: the producer's cursor per account and mailbox.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { UsageError } from "../../src/errors.ts";
import { type Cursor, listCursors, readCursor, resetCursor } from "../../src/state/cursor.ts";
import { cursorView } from "../../src/state/cursor_view.ts";
import type { App } from "../app.ts";
import { wholeNumberProblem } from "../whole_number.ts";
import { table } from "../output.ts";
import { confirm, examples, printResult } from "./common.ts";

function cursorTable(cursors: readonly Cursor[]): string {
  if (cursors.length === 0) return "No producer state found.\n";
  return table(
    ["ACCOUNT", "MAILBOX", "LAST_UID", "UIDVALIDITY", "LAST_POLL", "TOTAL"],
    cursors.map((c) => [c.account, c.mailbox, c.lastUid, c.uidValidity, c.lastPoll, c.totalEmails]),
  );
}

/** Builds `state get`. */
function stateGetCommand(app: App): Command {
  return new Command("get")
    .description(
      "Show the cursor of one mailbox (of every account when --account and IMAP_USER are unset)",
    )
    .option("--account <email>", "account address (default: IMAP_USER)")
    .option("--mailbox <name>", "mailbox (default: IMAP_MAILBOX)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples(
        "ingest state get --mailbox INBOX",
        "ingest state get --account me@example.com --json",
      ),
    )
    .action(async (options) => {
      const config = await app.config({
        IMAP_USER: options.account,
        IMAP_MAILBOX: options.mailbox,
      });
      const redis = await app.redis(config, "ingest:state");
      const mailboxes = config.imap.mailboxes;
      const account = config.imap.user;
      const cursors = account === undefined
        ? (await listCursors(redis)).filter((c) => mailboxes.includes(c.mailbox))
        : (await Promise.all(mailboxes.map((mailbox) => readCursor(redis, { account, mailbox }))))
          .filter((c): c is Cursor => c !== null);
      printResult(app, options.json, {
        account: account ?? null,
        mailboxes,
        found: cursors.length > 0,
        cursors: cursors.map((cursor) => cursorView(cursor)),
      }, () => cursorTable(cursors));
    });
}

/** Builds `state list`. */
function stateListCommand(app: App): Command {
  return new Command("list")
    .description("List the cursor of every mailbox with state")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples("ingest state list", "ingest state list --json | jq '.cursors[].last_uid'"),
    )
    .action(async (options) => {
      const config = await app.config();
      const redis = await app.redis(config, "ingest:state");
      const cursors = await listCursors(redis);
      printResult(
        app,
        options.json,
        { cursors: cursors.map((cursor) => cursorView(cursor)) },
        () => cursorTable(cursors),
      );
    });
}

/** Builds `state reset`. */
function stateResetCommand(app: App): Command {
  return new Command("reset")
    .description("Move a mailbox's cursor back so the producer fetches again after --to-uid")
    .requiredOption("--mailbox <name>", "mailbox to reset")
    .option("--account <email>", "account address (default: IMAP_USER)")
    .option("--to-uid <uid>", "new last_uid: messages after it are fetched again", "0")
    .option("--yes", "do not ask for confirmation (required when not on a terminal)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples(
        "ingest state reset --mailbox INBOX --account me@example.com --yes",
        "ingest state reset --mailbox INBOX --to-uid 1200",
      ),
    )
    .action(async (options) => {
      const toUid = Number(options.toUid);
      const problems: string[] = [];
      const uidProblem = wholeNumberProblem("--to-uid", options.toUid, { min: 0 });
      if (uidProblem !== undefined) problems.push(uidProblem);
      const config = await app.configCollecting({ IMAP_USER: options.account }, problems, [
        { name: "IMAP_USER", problem: "--account (or IMAP_USER) is required to reset a cursor" },
      ]);
      const account = config?.imap.user;
      if (!options.yes && !app.runtime.interactive) {
        problems.push("refusing to reset without --yes when not on a terminal");
      }
      if (problems.length > 0 || config === undefined) {
        throw new UsageError(`Cannot reset state:\n  - ${problems.join("\n  - ")}`);
      }
      const ref = { account: account!, mailbox: options.mailbox };
      const question =
        `Reset ${ref.mailbox} of the configured account to last_uid=${toUid}? Messages after it will be fetched again.`;
      if (!options.yes && !(await confirm(app, question))) {
        app.runtime.stderr("Aborted: nothing changed.\n");
        return;
      }
      const redis = await app.redis(config, "ingest:state");
      const result = await resetCursor(redis, ref, toUid);
      printResult(
        app,
        options.json,
        {
          account: ref.account,
          mailbox: ref.mailbox,
          previous_last_uid: result.before?.lastUid ?? null,
          last_uid: result.lastUid,
        },
        () =>
          `Reset ${ref.mailbox}: last_uid ${
            result.before?.lastUid ?? "(none)"
          } -> ${result.lastUid}\n`,
      );
    });
}

/** Builds the `state` command group. */
export function stateCommand(app: App): Command {
  const state = new Command("state").description("Show or reset the producer's cursor per mailbox");

  state.addCommand(stateGetCommand(app));
  state.addCommand(stateListCommand(app));
  state.addCommand(stateResetCommand(app));
  return state;
}
