/**
 * `ingest state reset`: move a mailbox's cursor back (or forward) so the
 * producer fetches again after `--to-uid`. Typos are errors, not state: an
 * unknown mailbox needs `--create`, and a `--to-uid` beyond the mailbox's
 * UIDNEXT is warned about (checked over IMAP when the server can be reached).
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { Config } from "../../src/config/config.ts";
import { describeError, UsageError } from "../../src/errors.ts";
import type { MailboxRef } from "../../src/redis/keys.ts";
import type { Cursor } from "../../src/state/cursor.ts";
import type { App } from "../app.ts";
import { wholeNumberProblem } from "../whole_number.ts";
import { ACCOUNT_FLAGS, confirm, examples, printResult } from "./common.ts";
import { tokenStoreOf } from "./token_store_choice.ts";

/** Builds `state reset`. */
export function stateResetCommand(app: App): Command {
  return new Command("reset")
    .description("Move a mailbox's cursor back so the producer fetches again after --to-uid")
    .requiredOption("--mailbox <name>", "mailbox to reset (must have state or be in IMAP_MAILBOX)")
    .option(ACCOUNT_FLAGS, "account address (default: IMAP_USER)")
    .option("--to-uid <uid>", "new last_uid: messages after it are fetched again", "0")
    .option("--create", "start a cursor for a mailbox that has no state and is not configured")
    .option("--yes", "do not ask for confirmation (required when not on a terminal)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples(
        "ingest state reset --mailbox INBOX --account me@example.com --yes",
        "ingest state reset --mailbox INBOX --to-uid 1200",
        "ingest state reset --mailbox Archive --create --yes",
      ) +
        "\nA --to-uid above the cursor is checked against the mailbox's UIDNEXT over IMAP\n" +
        "(a warning when it is beyond; a note when IMAP cannot be reached within\n" +
        "DOCTOR_TIMEOUT_SECONDS).\n" +
        "Exit codes: 0 reset or declined, 1 runtime failure, 2 usage error (e.g. an unknown\n" +
        "mailbox without --create).\n",
    )
    .action(async (options) => {
      await runReset(app, options);
    });
}

interface ResetOptions {
  mailbox: string;
  account?: string;
  toUid: string;
  create?: boolean;
  yes?: boolean;
  json?: boolean;
}

async function runReset(app: App, options: ResetOptions): Promise<void> {
  const toUid = Number(options.toUid);
  const problems: string[] = [];
  const uidProblem = wholeNumberProblem("--to-uid", options.toUid, { min: 0 });
  if (uidProblem !== undefined) problems.push(uidProblem);
  const config = await app.configCollecting({ IMAP_USER: options.account }, problems, [
    { name: "IMAP_USER", problem: "--account (or IMAP_USER) is required to reset a cursor" },
  ]);
  if (!options.yes && !app.runtime.interactive) {
    problems.push("refusing to reset without --yes when not on a terminal");
  }
  if (problems.length > 0 || config === undefined) {
    throw new UsageError(`Cannot reset state:\n  - ${problems.join("\n  - ")}`);
  }
  const { mailboxRef } = await import("../../src/redis/partitions.ts");
  const { resetTarget } = await import("../../src/state/reset_target.ts");
  const { resetCursor } = await import("../../src/state/cursor.ts");
  const ref = mailboxRef(config.imap.user!, options.mailbox, config.redis.partitions);
  const redis = await app.redis(config, "ingest:state");
  const target = await resetTarget(redis, ref, config.imap.mailboxes);
  if (!target.known && !options.create) throw unknownMailbox(ref.mailbox, config, target);
  const uidNext = await checkUidNext(app, config, ref, toUid, target.cursor);
  const question =
    `Reset ${ref.mailbox} of the configured account to last_uid=${toUid}? Messages after it will be fetched again.`;
  if (!options.yes && !(await confirm(app, question))) {
    app.runtime.stderr("Aborted: nothing changed.\n");
    return;
  }
  const result = await resetCursor(redis, ref, toUid);
  printResult(
    app,
    options.json,
    {
      account: ref.account,
      mailbox: ref.mailbox,
      partition: ref.partition ?? null,
      previous_last_uid: result.before?.lastUid ?? null,
      last_uid: result.lastUid,
      ...(uidNext === undefined ? {} : { uid_next: uidNext }),
    },
    () =>
      `Reset ${ref.mailbox}: last_uid ${result.before?.lastUid ?? "(none)"} -> ${result.lastUid}\n`,
  );
}

function unknownMailbox(
  mailbox: string,
  config: Config,
  target: { readonly mailboxesWithState: readonly string[] },
): UsageError {
  const withState = target.mailboxesWithState.length === 0
    ? "none"
    : target.mailboxesWithState.join(", ");
  return new UsageError(
    `Cannot reset state: the mailbox "${mailbox}" has no state in Redis for this account and ` +
      `is not in IMAP_MAILBOX (${config.imap.mailboxes.join(", ")}). Mailboxes with state: ` +
      `${withState}. Check the spelling (ingest state list), or pass --create to start a cursor ` +
      `for it.`,
  );
}

/**
 * A `--to-uid` above the stored cursor moves past UIDs the producer has not
 * seen: compare it with the server's UIDNEXT. Warns (stderr) when it is beyond,
 * or says the check could not run; returns the UIDNEXT when it was read.
 * At or below the cursor nothing is checked (those UIDs were seen).
 */
async function checkUidNext(
  app: App,
  config: Config,
  ref: MailboxRef,
  toUid: number,
  cursor: Cursor | null,
): Promise<number | null | undefined> {
  if (toUid === 0 || (cursor !== null && toUid <= cursor.lastUid)) return undefined;
  const logger = app.logger(config);
  // IMAP (imapflow) loads only for this check, not for every `ingest state` command.
  const { readUidNext } = await import("../../src/imap/uid_next.ts");
  const { credentialsFor } = await import("../../src/auth/token_provider.ts");
  try {
    const { uidNext } = await readUidNext({
      imap: config.imap,
      credentials: credentialsFor(config, ref.account, logger, {}, await tokenStoreOf(app, config)),
      mailbox: ref.mailbox,
      logger,
      timeoutMs: Math.round(config.doctor.timeoutSeconds * 1000),
    });
    if (toUid >= uidNext) {
      app.runtime.stderr(
        `warning: --to-uid ${toUid} is beyond ${ref.mailbox}'s UIDNEXT ${uidNext}: the producer ` +
          `will skip every new message until a UID above ${toUid} arrives. The highest UID ` +
          `now is at most ${uidNext - 1}.\n`,
      );
    }
    return uidNext;
  } catch (error) {
    app.runtime.stderr(
      `note: could not check --to-uid ${toUid} against ${ref.mailbox}'s UIDNEXT over IMAP ` +
        `(${describeError(error)}); make sure it is not beyond the mailbox's newest UID.\n`,
    );
    return null;
  }
}
