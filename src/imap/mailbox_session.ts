/**
 * One IMAP connection following one mailbox, opened read-only (EXAMINE), so
 * ingestion never changes flags or anything else on the server.
 *
 * Fetching is split in two so that memory stays flat and parsing stays cheap:
 * first BODYSTRUCTURE, the header block, flags, size and Gmail's identifiers
 * for a whole batch; then only the first bytes of each message's text/plain and
 * text/html parts (`BODY.PEEK[n]<0.max>`), one command per part layout.
 * Attachments are never downloaded; no message's full source is held.
 *
 * @module
 */

import type { FetchMessageObject, FetchQueryObject, ImapFlow } from "imapflow";
import { withDeadline } from "../async/deadline.ts";
import { type AuthError, ImapError, IngestError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { CredentialsProvider } from "./credentials.ts";
import { type ConnectionActivity, ConnectionWatchdog } from "./connection_watchdog.ts";
import type { FetchedBatch, FetchLimits, WaitOutcome } from "./fetch_batch.ts";
import { fetchWholeMessages } from "./full_message.ts";
import { type ImapServer, loginImap } from "./imap_login.ts";
import { METADATA_QUERY, metadataRow } from "./metadata_rows.ts";
import { classifyImapFailure, isMissingMailbox, stallError, toImapError } from "./imap_errors.ts";
import { watchChangeNotices } from "./change_feed.ts";
import { interruptedBatch } from "./interrupted_batch.ts";
import { installRowReader, streamRows } from "./raw_fetch.ts";
import { fetchTextParts, partRequests, type WantedParts } from "./text_parts.ts";
import type { FetchedMessage } from "./message_payload.ts";
import { structureDoubt } from "./structure_doubt.ts";
import { uidSet } from "./uid_set.ts";

export type { FetchedBatch, FetchLimits, WaitOutcome } from "./fetch_batch.ts";
export { type ImapLoginOptions, type ImapServer, loginImap } from "./imap_login.ts";

/** Options of {@link openMailboxSession}. */
export interface MailboxSessionOptions {
  readonly server: ImapServer;
  readonly credentials: CredentialsProvider;
  readonly mailbox: string;
  readonly logger: Logger;
  /** Socket inactivity before imapflow probes the connection (a backstop). Default 5 min. */
  readonly socketTimeoutMs?: number;
  /**
   * Longest silence of the server while a command waits for its answer before
   * the connection is declared dead and closed. Default 30 s.
   */
  readonly commandTimeoutMs?: number;
  /** Called whenever the server said something (IDLE health). */
  readonly onServerHeard?: () => void;
  /** Read FETCH rows with our own reader (`raw_fetch.ts`) rather than imapflow's. Default true. */
  readonly rowReader?: boolean;
  /** `--events updated|deleted`: ENABLE QRESYNC; flag changes and expunges end waits. */
  readonly watchChanges?: boolean;
}

/** Connects, logs in and opens `mailbox` read-only. */
export async function openMailboxSession(options: MailboxSessionOptions): Promise<MailboxSession> {
  const client = await loginImap({ ...options, qresync: options.watchChanges ?? false });
  try {
    const info = await client.mailboxOpen(options.mailbox, { readOnly: true });
    return new MailboxSession(client, options, Number(info.uidValidity), info.uidNext);
  } catch (error) {
    client.close();
    if (isMissingMailbox(error)) {
      // Not retryable: the producer stops this mailbox at once instead of backing off.
      throw new ImapError(
        "IMAP_MAILBOX_NOT_FOUND",
        `The mailbox "${options.mailbox}" does not exist on the IMAP server: fix IMAP_MAILBOX ` +
          `or --mailbox (Gmail: INBOX, "[Gmail]/All Mail", "[Gmail]/Sent Mail")`,
        { cause: error, retryable: false },
      );
    }
    throw toImapError(error, `opening mailbox ${options.mailbox}`);
  }
}

/** A logged-in connection with one mailbox open read-only. */
export class MailboxSession {
  /** UIDVALIDITY reported when the mailbox was opened. */
  readonly uidValidity: number;
  /** UIDNEXT reported when the mailbox was opened. */
  readonly uidNextAtOpen: number;
  /** The server offers IDLE. */
  readonly supportsIdle: boolean;
  /** The server is Gmail (X-GM-EXT-1): payloads carry msgid/thrid/labels. */
  readonly gmail: boolean;
  readonly #client: ImapFlow;
  readonly #options: MailboxSessionOptions;
  #changed = false;
  #closed = false;
  readonly #wakers = new Set<(outcome: WaitOutcome) => void>();
  readonly #watchdog: ConnectionWatchdog;
  /** Why the watchdog closed the connection; what every command then fails with. */
  #stalled: ImapError | undefined;

  constructor(
    client: ImapFlow,
    options: MailboxSessionOptions,
    uidValidity: number,
    uidNext: number,
  ) {
    this.#client = client;
    this.#options = options;
    this.uidValidity = uidValidity;
    this.uidNextAtOpen = uidNext;
    this.supportsIdle = client.capabilities.has("IDLE");
    this.gmail = client.capabilities.has("X-GM-EXT-1");
    if (options.rowReader !== false) installRowReader(client);
    const changed = () => {
      options.onServerHeard?.();
      this.#changed = true;
      this.#wake("changed");
    };
    client.on("exists", changed);
    if (options.watchChanges) watchChangeNotices(client, changed);
    client.on("response", () => options.onServerHeard?.());
    client.on("close", () => {
      this.#closed = true;
      this.#watchdog.stop();
      this.#wake("closed");
    });
    const timeoutMs = options.commandTimeoutMs ?? 30_000;
    this.#watchdog = new ConnectionWatchdog({
      commandTimeoutMs: timeoutMs,
      received: () => client.stats().received,
      onHeard: () => options.onServerHeard?.(),
      onDead: (command, silent) => {
        this.#stalled = stallError(command, silent, timeoutMs);
        options.logger.warn("imap connection stalled", { command, silent_ms: silent });
        client.close();
      },
    });
    this.#watchdog.start();
  }

  /** When the server last sent anything and which command waits for an answer. */
  activity(): ConnectionActivity {
    return this.#watchdog.activity();
  }

  /** Whether the connection has closed (the caller reconnects). */
  get closed(): boolean {
    return this.#closed;
  }

  /** UIDs above `afterUid`, ascending. (`n:*` always matches the highest UID, so it is filtered.) */
  async newUids(afterUid: number): Promise<number[]> {
    const found = await this.#run(
      "UID SEARCH",
      () => this.#client.search({ uid: `${afterUid + 1}:*` }, { uid: true }),
    );
    return (found || []).filter((uid) => uid > afterUid).sort((a, b) => a - b);
  }

  /** UIDs of messages with an internal date on or after `date`, ascending. */
  async uidsSince(date: Date): Promise<number[]> {
    const found = await this.#run(
      "UID SEARCH SINCE",
      () => this.#client.search({ since: date }, { uid: true }),
    );
    return (found || []).sort((a, b) => a - b);
  }

  /**
   * The highest UID in the mailbox now (`UID SEARCH UID *`), or UIDNEXT-1 at
   * open when it is empty: where `--start latest` puts the cursor.
   */
  async highestUid(): Promise<number> {
    const found = await this.#run(
      "UID SEARCH",
      () => this.#client.search({ uid: "*" }, { uid: true }),
    );
    return found && found.length > 0 ? Math.max(...found) : Math.max(0, this.uidNextAtOpen - 1);
  }

  /**
   * Fetches what the payload needs for `uids` (ascending). A connection
   * failure midway does not throw: the result carries it in `interrupted`,
   * with the whole messages that arrived before it.
   */
  async fetchBatch(uids: readonly number[], limits: FetchLimits): Promise<FetchedBatch> {
    if (uids.length === 0) return { messages: [], bytes: 0 };
    const raw: FetchMessageObject[] = [];
    let failure: ImapError | AuthError | undefined;
    try {
      await this.#fetchMetadata(uids, raw);
    } catch (error) {
      failure = this.#failure(error, "UID FETCH");
    }
    let bytes = 0;
    const messages: FetchedMessage[] = [];
    const wanted: WantedParts = new Map();
    const whole: FetchedMessage[] = []; // BODYSTRUCTURE not to be trusted: fetched and parsed whole
    for (const item of raw.sort((a, b) => a.uid - b.uid)) {
      const message = metadataRow(item, this.gmail);
      bytes += message.headers?.length ?? 0;
      messages.push(message);
      if (message.size > limits.maxMessageBytes) {
        message.bodySkipped = "too_large";
        continue;
      }
      if (structureDoubt(message)) {
        whole.push(message);
        continue;
      }
      const parts = partRequests(message.bodyStructure, limits);
      if (parts.length > 0) wanted.set(message.uid, { message, parts });
    }
    if (failure === undefined) {
      try {
        bytes += await fetchTextParts(wanted, {
          fetchInto: (range, query, into) => this.#fetchInto(range, query, into),
          fatal: (error, doing) =>
            classifyImapFailure(error) !== "refused" || this.#stalled
              ? this.#failure(error, doing)
              : undefined,
        });
      } catch (error) {
        failure = this.#failure(error, "UID FETCH BODY");
      }
    }
    if (failure === undefined && whole.length > 0) {
      try {
        bytes += await fetchWholeMessages(this.#client, whole);
        whole.length = 0;
      } catch (error) {
        failure = this.#failure(error, "UID FETCH BODY[]");
      }
    }
    if (failure === undefined) return { messages, bytes };
    // `wanted` and `whole` now hold only the messages whose bodies never arrived.
    const incomplete = new Set([...wanted.keys(), ...whole.map((m) => m.uid)]);
    return interruptedBatch(uids, messages, incomplete, bytes, failure);
  }

  /**
   * Waits for new mail: IDLE when `idle` and the server offers it, otherwise
   * just the timeout (polling). Returns at once when mail arrived since the
   * last wait.
   */
  async waitForChange(timeoutMs: number, idle: boolean, signal: AbortSignal): Promise<WaitOutcome> {
    if (this.#closed) return "closed";
    if (signal.aborted) return "aborted";
    if (this.#changed) {
      this.#changed = false;
      return "changed";
    }
    if (idle && this.supportsIdle) {
      // Resolves when the next command breaks IDLE; failures surface on that command.
      this.#client.idle().catch(() => {});
    }
    const outcome = await new Promise<WaitOutcome>((resolve) => {
      const timer = setTimeout(() => done("timeout"), timeoutMs);
      const onAbort = () => done("aborted");
      signal.addEventListener("abort", onAbort, { once: true });
      const done = (result: WaitOutcome) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#wakers.delete(done);
        resolve(result);
      };
      this.#wakers.add(done);
    });
    if (outcome === "changed") this.#changed = false;
    return outcome;
  }

  /** NOOP (ends IDLE, refreshes the mailbox view); throws when the server does not answer in time. */
  async ping(timeoutMs: number): Promise<void> {
    try {
      await withDeadline(this.#run("NOOP", () => this.#client.noop()), timeoutMs, "NOOP");
    } catch (error) {
      if (!(error instanceof IngestError && error.code === "TIMED_OUT")) throw error;
      throw new ImapError(
        "IMAP_STALLED",
        `The IMAP server did not answer NOOP within ${timeoutMs} ms: reconnecting.`,
        { cause: error },
      );
    }
  }

  /** Logs out politely (bounded), then closes the socket. Never throws. */
  async close(timeoutMs = 2_000): Promise<void> {
    this.#watchdog.stop();
    if (!this.#closed) {
      await Promise.race([
        this.#client.logout().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, timeoutMs)),
      ]);
    }
    this.#client.close();
    this.#closed = true;
  }

  /** Runs `action` on the connection under the watchdog (how `change_feed.ts` reads). */
  withClient<T>(doing: string, action: (client: ImapFlow) => Promise<T>): Promise<T> {
    return this.#run(doing, () => action(this.#client));
  }

  #wake(outcome: WaitOutcome): void {
    for (const wake of [...this.#wakers]) wake(outcome);
  }

  async #run<T>(doing: string, action: () => Promise<T>): Promise<T> {
    try {
      return await this.#watchdog.watch(doing, action);
    } catch (error) {
      throw this.#failure(error, doing);
    }
  }

  /** The error a failed command stands for: the stall when the watchdog closed the connection. */
  #failure(error: unknown, doing: string): ImapError | AuthError {
    return this.#stalled ?? toImapError(error, doing);
  }

  /** Streams one UID FETCH into `into`, so rows that arrived survive a broken connection. */
  #fetchInto(range: string, query: FetchQueryObject, into: FetchMessageObject[]): Promise<void> {
    return this.#watchdog.watch("UID FETCH", () => streamRows(this.#client, range, query, into));
  }

  /** Phase 1 for the whole batch; per message when the server refuses the batch. */
  async #fetchMetadata(uids: readonly number[], into: FetchMessageObject[]): Promise<void> {
    try {
      return await this.#fetchInto(uidSet(uids), METADATA_QUERY, into);
    } catch (error) {
      if (classifyImapFailure(error) !== "refused" || uids.length === 1 || this.#stalled) {
        throw this.#failure(error, "UID FETCH");
      }
    }
    // One broken message must not block the others: fetch them one by one.
    into.length = 0;
    for (const uid of uids) {
      try {
        await this.#fetchInto(String(uid), METADATA_QUERY, into);
      } catch (error) {
        if (classifyImapFailure(error) !== "refused" || this.#stalled) {
          throw this.#failure(error, "UID FETCH");
        }
        const reason = toImapError(error, `UID FETCH ${uid}`).message;
        into.push(
          { seq: 0, uid, size: 0, refusal: reason } as FetchMessageObject & { refusal: string },
        );
      }
    }
  }
}
