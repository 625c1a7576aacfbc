/**
 * What changed in a mailbox, read over IMAP for `--events updated|deleted`.
 *
 * With CONDSTORE (RFC 7162) one `UID FETCH 1:<last> (FLAGS) (CHANGEDSINCE m)`
 * returns only the messages whose MODSEQ grew since `m`, however long the
 * producer was away; with QRESYNC the same command adds `VANISHED (EARLIER)`,
 * the UIDs expunged since `m` (imapflow reports them as `expunge` events
 * with `earlier`). Without QRESYNC the expunged UIDs are what a `UID SEARCH`
 * no longer lists; without CONDSTORE the flags of a bounded window of the
 * newest messages are fetched again each round (see the README for costs).
 *
 * @module
 */

import type { FetchMessageObject, ImapFlow } from "imapflow";

/** A message's flags (and labels, on Gmail) as the server reports them now. */
export interface ChangeRow {
  readonly uid: number;
  readonly flags: readonly string[];
  /** X-GM-LABELS; `null` on servers without them. */
  readonly labels: readonly string[] | null;
  /** The message's MODSEQ; `null` without CONDSTORE. */
  readonly modseq: bigint | null;
}

/** One read of changes. */
export interface ChangeScan {
  /** Messages whose flags may have changed. */
  readonly rows: readonly ChangeRow[];
  /** UIDs reported expunged (QRESYNC); `null` when the server does not report them. */
  readonly vanished: readonly number[] | null;
  /** The mailbox's HIGHESTMODSEQ as known before the read; `null` without CONDSTORE. */
  readonly highestModseq: bigint | null;
}

/** Reads changes of the open mailbox; a `MailboxSession`'s {@link changeFeed} in production. */
export interface ChangeSource {
  /** Whether the server keeps MODSEQs (CONDSTORE enabled, and the open mailbox has them). */
  condstore(): Promise<boolean>;
  /** Messages among UIDs `from..through` whose MODSEQ is above `since` (all of them without). */
  changes(from: number, through: number, since: bigint | null): Promise<ChangeScan>;
  /** UIDs present among `1..through`, ascending. */
  uids(through: number): Promise<number[]>;
  /** Message-ID headers of `uids` (absent from the map: gone or without one). */
  messageIds(uids: readonly number[]): Promise<Map<number, string>>;
}

/** What {@link changeFeed} reads through (a `MailboxSession`). */
export interface ChangeFeedSession {
  readonly gmail: boolean;
  withClient<T>(doing: string, action: (client: ImapFlow) => Promise<T>): Promise<T>;
}

/**
 * Calls `onChange` for flag changes and expunges the server announces on its
 * own (during IDLE or after a NOOP); not for `VANISHED (EARLIER)`, which only
 * answers our own CHANGEDSINCE fetch.
 */
export function watchChangeNotices(client: ImapFlow, onChange: () => void): void {
  client.on("flags", () => onChange());
  client.on("expunge", (event: { earlier?: boolean }) => {
    if (!event.earlier) onChange();
  });
}

/** The {@link ChangeSource} of an open session. */
export function changeFeed(session: ChangeFeedSession): ChangeSource {
  return {
    condstore: () =>
      session.withClient("CAPABILITY", (client) => Promise.resolve(hasModseq(client))),
    changes: (from, through, since) =>
      session.withClient("UID FETCH CHANGEDSINCE", (client) =>
        // imapflow drops a CHANGEDSINCE of 0 (falsy): that is the full read anyway.
        readChanges(
          client,
          session.gmail,
          `${from}:${through}`,
          hasModseq(client) && since ? since : null,
        )),
    uids: (through) =>
      session.withClient("UID SEARCH", async (client) => {
        const found = await client.search({ uid: `1:${through}` }, { uid: true });
        return (found || []).filter((uid) => uid <= through).sort((a, b) => a - b);
      }),
    messageIds: (uids) =>
      session.withClient("UID FETCH MESSAGE-ID", async (client) => {
        const ids = new Map<number, string>();
        if (uids.length === 0) return ids;
        const query = { uid: true, headers: ["message-id"] };
        for await (const row of client.fetch(uids.join(","), query, { uid: true })) {
          const id = messageIdOf(row.headers);
          if (id !== null) ids.set(row.uid, id);
        }
        return ids;
      }),
  };
}

function hasModseq(client: ImapFlow): boolean {
  const mailbox = client.mailbox;
  return client.enabled.has("CONDSTORE") && !(mailbox && mailbox.noModseq);
}

async function readChanges(
  client: ImapFlow,
  gmail: boolean,
  range: string,
  since: bigint | null,
): Promise<ChangeScan> {
  const before = client.mailbox ? client.mailbox.highestModseq ?? null : null;
  const qresync = since !== null && client.enabled.has("QRESYNC");
  const vanished: number[] = [];
  const onExpunge = (event: { uid?: number }) => {
    if (event.uid !== undefined) vanished.push(event.uid);
  };
  if (qresync) client.on("expunge", onExpunge);
  const rows: ChangeRow[] = [];
  try {
    const options = since === null ? { uid: true } : { uid: true, changedSince: since };
    const query = { uid: true, flags: true, labels: gmail };
    for await (const row of client.fetch(range, query, options)) rows.push(changeRow(row, gmail));
  } finally {
    if (qresync) client.off("expunge", onExpunge);
  }
  return {
    rows,
    vanished: qresync ? vanished : null,
    highestModseq: typeof before === "bigint" ? before : null,
  };
}

function changeRow(row: FetchMessageObject, gmail: boolean): ChangeRow {
  return {
    uid: row.uid,
    flags: [...(row.flags ?? [])],
    labels: gmail ? [...(row.labels ?? [])] : null,
    modseq: typeof row.modseq === "bigint" ? row.modseq : null,
  };
}

/** The Message-ID of a `HEADER.FIELDS (MESSAGE-ID)` answer; `null` when none. */
export function messageIdOf(headers: Uint8Array | undefined): string | null {
  if (!headers) return null;
  const text = new TextDecoder().decode(headers).replace(/\r?\n[ \t]+/g, " ");
  const match = /^message-id:\s*(<[^>\r\n]*>)/im.exec(text);
  return match ? match[1]! : null;
}
