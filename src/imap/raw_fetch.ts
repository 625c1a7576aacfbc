/**
 * The producer's UID FETCH commands, sent through imapflow's connection but
 * with the answer rows read by our own reader (`fetch_rows.ts`).
 *
 * imapflow stays in charge of everything else: login, the socket, TLS, tags,
 * IDLE, untagged EXISTS/EXPUNGE, errors and close, and the size limits of
 * the framing (which `response_framing.ts` now does in its place). What
 * changes is one step: when a response is an untagged FETCH row *and* the
 * command on the wire is one of ours, the row is read here and handed to the
 * caller instead of going through imapflow's generic tokenizer and
 * `formatMessageResponse`, which cost ≈ 66 µs a row plus ≈ 60 µs per first
 * literal and per BODYSTRUCTURE (docs/PRODUCER_PROFILE.md). A row our
 * reader does not read with certainty goes on to imapflow as before, whose
 * result reaches the caller through the same callback, so odd servers get
 * imapflow's tolerance.
 *
 * Rows are taken where the framing cuts them, so they skip imapflow's stream
 * and reader too. The hook also replaces `handleResponse` on the client
 * object (imapflow's reader calls it for every response it gets), for when
 * the framing does not fit this imapflow. Both are internal to imapflow
 * (pinned in deno.json); when `handleResponse` is missing,
 * {@link installRowReader} says so and the session keeps using imapflow's
 * `fetch()`.
 *
 * @module
 */

import type { FetchMessageObject, FetchQueryObject, ImapFlow } from "imapflow";
import { formatMessageResponse } from "imapflow/lib/tools.js";
import { type FetchRow, readFetchRow } from "./fetch_rows.ts";
import { type FramedResponse, installResponseFraming } from "./response_framing.ts";

/** The request imapflow has on the wire, as far as the hook reads it. */
interface WireRequest {
  readonly sent?: boolean;
  readonly options?: { readonly rowSink?: RowSink };
}

/**
 * The internals of imapflow 2.10 the hook touches, typed here because
 * imapflow's declarations leave `@internal` members out.
 */
interface ImapFlowInternals {
  handleResponse?: (data: FramedResponse) => Promise<boolean>;
  currentRequest?: WireRequest | null;
  preCheck?: (() => Promise<void>) | false;
  exec(
    command: string,
    attributes: unknown[],
    options: Record<string, unknown>,
  ): Promise<{ next(): void }>;
}

/** Where the rows of one command go, and how many our reader read. */
interface RowSink {
  (row: FetchRow | FetchMessageObject): void;
}

/** How many rows each reader read on a client (tests check the fast path is taken). */
export interface RowReaderStats {
  /** Rows read by our reader. */
  fast: number;
  /** Of those, rows taken where our framing cut them, before imapflow's stream (`response_framing.ts`). */
  framed: number;
  /** Rows left to imapflow's parser. */
  imapflow: number;
}

const readers = new WeakMap<ImapFlow, RowReaderStats>();

/**
 * Puts the row reader on `client`'s response path (idempotent). Returns
 * `false` when this imapflow has no `handleResponse` to wrap; the caller then
 * fetches with imapflow's `fetch()`.
 */
export function installRowReader(client: ImapFlow): boolean {
  if (readers.has(client)) return true;
  const internals = client as unknown as ImapFlowInternals;
  const original = internals.handleResponse;
  if (typeof original !== "function" || typeof internals.exec !== "function") return false;
  const stats: RowReaderStats = { fast: 0, framed: 0, imapflow: 0 };
  readers.set(client, stats);
  const takeRow = (response: FramedResponse): boolean => {
    const request = internals.currentRequest;
    const sink = request?.sent ? request.options?.rowSink : undefined;
    // `* ` then a digit: an untagged numbered response (FETCH, EXISTS, EXPUNGE).
    if (!sink || response.payload[0] !== 0x2a || !isDigit(response.payload[2])) return false;
    const row = readFetchRow(response.payload, response.literals, client);
    if (!row) return false;
    stats.fast++;
    sink(row);
    return true;
  };
  // Rows are taken where responses are framed, before imapflow's stream; where our framing
  // does not fit this imapflow, or for a response framed before it was installed, they are
  // taken on the way into imapflow's response handler.
  installResponseFraming(client, (response) => {
    if (!takeRow(response)) return false;
    stats.framed++;
    return true;
  });
  internals.handleResponse = function (this: ImapFlowInternals, data: FramedResponse) {
    return takeRow(data) ? Promise.resolve(true) : original.call(this, data);
  };
  return true;
}

/** The counts of {@link installRowReader} on `client`; `undefined` when not installed. */
export function rowReaderStats(client: ImapFlow): RowReaderStats | undefined {
  return readers.get(client);
}

/**
 * Streams one `UID FETCH <range> <query>` into `into`, row by row as they
 * arrive, so the rows before a broken connection are kept. Resolves when the
 * server completed the command; rejects as imapflow's `fetch()` does (NO/BAD,
 * closed connection). Through the row reader when it is installed on `client`
 * and knows every item of `query`, otherwise through imapflow's `fetch()`.
 */
export async function streamRows(
  client: ImapFlow,
  range: string,
  query: FetchQueryObject,
  into: FetchMessageObject[],
): Promise<void> {
  if (readers.has(client) && readable(query)) return await fetchRows(client, range, query, into);
  for await (const row of client.fetch(range, query, { uid: true })) into.push(row);
}

/** Whether {@link queryAttributes} spells every item of `query`. */
function readable(query: FetchQueryObject): boolean {
  return !query.envelope && !query.source && !query.fast && !query.all && !query.full &&
    (query.headers === undefined || typeof query.headers === "boolean");
}

async function fetchRows(
  client: ImapFlow,
  range: string,
  query: FetchQueryObject,
  into: FetchMessageObject[],
): Promise<void> {
  const internals = client as unknown as ImapFlowInternals;
  const stats = readers.get(client)!;
  const mailbox = client.mailbox;
  const rowSink: RowSink = (row) => void into.push(row as FetchMessageObject);
  // A command sent during IDLE would wait behind it forever: end IDLE first, as `run()` does.
  if (typeof internals.preCheck === "function") await internals.preCheck();
  const response = await internals.exec("UID FETCH", [
    { type: "SEQUENCE", value: range },
    queryAttributes(client, query),
  ], {
    rowSink,
    untagged: {
      // Rows our reader left to imapflow's parser, formatted by imapflow as `fetch()` does.
      FETCH: async (untagged: unknown) => {
        if (!mailbox) return;
        stats.imapflow++;
        rowSink(await formatMessageResponse(untagged as never, mailbox, undefined, client));
      },
    },
  });
  response.next();
}

/**
 * The FETCH items for the subset of imapflow's query object the producer
 * uses, spelt as imapflow's `fetch()` spells them: UID, FLAGS,
 * BODYSTRUCTURE, INTERNALDATE, RFC822.SIZE, X-GM-MSGID / X-GM-THRID /
 * X-GM-LABELS on Gmail (EMAILID / THREADID with OBJECTID), MODSEQ with
 * CONDSTORE enabled, BODY.PEEK[HEADER], BODY.PEEK[<part>]<0.N>.
 */
export function queryAttributes(client: ImapFlow, query: FetchQueryObject): unknown[] {
  const atom = (value: string) => ({ type: "ATOM", value });
  const items: unknown[] = [atom("UID")];
  if (query.flags) items.push(atom("FLAGS"));
  if (query.bodyStructure) items.push(atom("BODYSTRUCTURE"));
  if (query.internalDate) items.push(atom("INTERNALDATE"));
  if (query.size) items.push(atom("RFC822.SIZE"));
  const objectId = client.capabilities.has("OBJECTID");
  const gmail = client.capabilities.has("X-GM-EXT-1");
  if (objectId) items.push(atom("EMAILID"));
  else if (gmail) items.push(atom("X-GM-MSGID"));
  if (query.threadId && (objectId || gmail)) {
    items.push(atom(objectId ? "THREADID" : "X-GM-THRID"));
  }
  if (query.labels && gmail) items.push(atom("X-GM-LABELS"));
  if (client.enabled.has("CONDSTORE") && !(client.mailbox || undefined)?.noModseq) {
    items.push(atom("MODSEQ"));
  }
  const peek = (section: string, partial?: number[]) =>
    items.push({ type: "ATOM", value: "BODY.PEEK", section: [atom(section)], partial });
  if (query.headers === true) peek("HEADER");
  for (const part of query.bodyParts ?? []) {
    if (typeof part === "string") peek(part.toUpperCase());
    else if (part?.key) {
      peek(part.key.toUpperCase(), part.maxLength ? [part.start ?? 0, part.maxLength] : undefined);
    }
  }
  return items;
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}
