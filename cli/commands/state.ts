/**
 * `ingest state get|list|reset`: the producer's cursor per account and mailbox.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { Cursor } from "../../src/state/cursor.ts";
import { cursorTotals, cursorView } from "../../src/state/cursor_view.ts";
import type { App } from "../app.ts";
import { table } from "../output.ts";
import { ACCOUNT_FLAGS, examples, printResult } from "./common.ts";
import { stateResetCommand } from "./state_reset.ts";

function cursorTable(cursors: readonly Cursor[], partitions: number): string {
  if (cursors.length === 0) return "No producer state found.\n";
  const header = [
    "ACCOUNT",
    "MAILBOX",
    "LAST_UID",
    "UIDVALIDITY",
    "LAST_POLL",
    "TOTAL",
    "BACKFILL",
  ];
  const rows = cursors.map((c) => [
    c.account,
    c.mailbox,
    c.lastUid,
    c.uidValidity,
    c.lastPoll,
    c.totalEmails,
    backfillCell(c),
  ]);
  if (partitions <= 1) return table(header, rows);
  const { totals } = cursorTotals(cursors, partitions);
  return table(["PARTITION", ...header], cursors.map((c, i) => [c.partition ?? "", ...rows[i]!])) +
    `${totals.mailboxes} mailbox(es) over ${partitions} partitions, ${totals.total_emails} messages published\n`;
}

/** The JSON of a set of cursors: each one, their totals and one row per partition. */
function cursorsJson(cursors: readonly Cursor[], partitions: number) {
  return {
    cursors: cursors.map((cursor) => cursorView(cursor)),
    ...cursorTotals(cursors, partitions),
  };
}

/** `-` (none), `done`, or `running <done_uid>/<snapshot_uid>`. */
function backfillCell(cursor: Cursor): string {
  const backfill = cursor.backfill;
  if (!backfill) return "-";
  if (backfill.state === "done") return "done";
  return `running ${backfill.doneUid}/${backfill.snapshotUid}`;
}

/** Builds `state get`. */
function stateGetCommand(app: App): Command {
  return new Command("get")
    .description(
      "Show the cursor of one mailbox (of every account when --account and IMAP_USER are unset)",
    )
    .option(ACCOUNT_FLAGS, "account address (default: IMAP_USER)")
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
      const { listCursors, readCursor } = await import("../../src/state/cursor.ts");
      const { mailboxRef } = await import("../../src/redis/partitions.ts");
      const redis = await app.redis(config, "ingest:state");
      const mailboxes = config.imap.mailboxes;
      const account = config.imap.user;
      const cursors = account === undefined
        ? (await listCursors(redis)).filter((c) => mailboxes.includes(c.mailbox))
        : (await Promise.all(
          mailboxes.map((mailbox) =>
            readCursor(redis, mailboxRef(account, mailbox, config.redis.partitions))
          ),
        )).filter((c): c is Cursor => c !== null);
      printResult(app, options.json, {
        account: account ?? null,
        mailboxes,
        found: cursors.length > 0,
        ...cursorsJson(cursors, config.redis.partitions),
      }, () => cursorTable(cursors, config.redis.partitions));
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
      const { listCursors } = await import("../../src/state/cursor.ts");
      const redis = await app.redis(config, "ingest:state");
      const cursors = await listCursors(redis);
      printResult(
        app,
        options.json,
        cursorsJson(cursors, config.redis.partitions),
        () => cursorTable(cursors, config.redis.partitions),
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
