/**
 * Reads a mailbox's UIDNEXT (and UIDVALIDITY) with one short IMAP session:
 * `ingest state reset --to-uid` checks the UID it is given against it, so a
 * typo such as `--to-uid 120000` for `12000` is seen before the producer
 * skips every message below it.
 *
 * @module
 */

import type { ImapConfig } from "../config/config.ts";
import { withDeadline } from "../async/deadline.ts";
import type { Logger } from "../log/logger.ts";
import { ImapError } from "../errors.ts";
import type { CredentialsProvider } from "./credentials.ts";
import { loginImap } from "./mailbox_session.ts";

/** What {@link readUidNext} found. */
export interface MailboxUids {
  /** The UID the next message will get. */
  readonly uidNext: number;
  /** The mailbox's UIDVALIDITY. */
  readonly uidValidity: number;
}

/** Options of {@link readUidNext}. */
export interface ReadUidNextOptions {
  /** Server address and TLS (`IMAP_HOST`, `IMAP_PORT`, `IMAP_TLS`). */
  readonly imap: Pick<ImapConfig, "host" | "port" | "tls">;
  /** Login of the account. */
  readonly credentials: CredentialsProvider;
  /** Mailbox path. */
  readonly mailbox: string;
  /** Where connection errors are logged (debug). */
  readonly logger: Logger;
  /** Bound on the whole session (login and STATUS). Default 10 s. */
  readonly timeoutMs?: number;
}

/** Logs in, asks `STATUS mailbox (UIDNEXT UIDVALIDITY)`, logs out; throws when it cannot. */
export async function readUidNext(options: ReadUidNextOptions): Promise<MailboxUids> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const session = (async () => {
    const client = await loginImap({
      server: { host: options.imap.host, port: options.imap.port, secure: options.imap.tls },
      credentials: options.credentials,
      logger: options.logger,
      connectTimeoutMs: timeoutMs,
      socketTimeoutMs: timeoutMs,
    });
    try {
      const status = await client.status(options.mailbox, { uidNext: true, uidValidity: true });
      await client.logout().catch(() => {});
      if (status === false) {
        throw new ImapError(
          "IMAP_MAILBOX_NOT_FOUND",
          `The mailbox "${options.mailbox}" does not exist on the IMAP server`,
          { retryable: false },
        );
      }
      return { uidNext: Number(status.uidNext), uidValidity: Number(status.uidValidity) };
    } finally {
      client.close();
    }
  })();
  session.catch(() => {}); // a session that fails after the deadline is not an unhandled rejection
  return await withDeadline(session, timeoutMs, `reading UIDNEXT of ${options.mailbox}`);
}
