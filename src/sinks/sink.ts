/**
 * The sink contract: where `ingest work` hands each stream entry.
 *
 * A sink's `handle()` resolves when the entry has been delivered durably
 * (written and flushed, accepted by the receiver, ...). The worker then writes
 * the processed-record and acknowledges the entry in one atomic step. When
 * `handle()` throws:
 * - a {@link PermanentError} (or any error whose `code` is `PERMANENT`) sends
 *   the entry straight to the dead-letter queue;
 * - any other error is retried with exponential backoff until the attempts
 *   run out, then the entry goes to the dead-letter queue.
 *
 * A sink may be called concurrently (up to `--concurrency` entries at once)
 * and may see the same entry again after a crash: the `idempotencyKey` is the
 * same every time, so receivers can deduplicate.
 *
 * @module
 */

import { PermanentError } from "../errors.ts";
import type { EntryPayload, EntryType } from "../stream/entry.ts";

/** One entry handed to a sink. */
export interface Delivery {
  /** The stream entry id, e.g. `1700000000000-0` (new after a DLQ replay). */
  readonly id: string;
  /** Entry kind. */
  readonly type: EntryType;
  /** Stable across retries, re-deliveries and replays: deduplicate on this. */
  readonly idempotencyKey: string;
  /** The decoded payload. */
  readonly payload: EntryPayload;
  /**
   * The payload as stored in the stream (the JSON text `payload` was parsed
   * from), when the worker has it: {@link deliveryJson} embeds it instead of
   * serialising `payload` again.
   */
  readonly payloadJson?: string;
  /**
   * The UTF-8 bytes of `payloadJson` as read from Redis, when the worker has
   * them and they decode to exactly that text: a sink that writes bytes (the
   * file sink) copies them instead of encoding the text again. Shared with
   * the worker: read them, never change them.
   */
  readonly payloadBytes?: Uint8Array;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
  /** Aborted when the worker stops waiting for this handler (shutdown timeout). */
  readonly signal: AbortSignal;
}

/** A destination for entries; see the module documentation for the contract. */
export interface Sink {
  /** Kind of sink for logs and `/status` (`stdout`, `file`, ...); never a URL or secret. */
  readonly kind: string;
  /** Delivers one entry; resolves once it is durable, throws to retry or dead-letter. */
  handle(delivery: Delivery): Promise<void>;
  /** Releases files, processes and connections. */
  close(): Promise<void>;
}

/** The JSON document stdout, file, webhook and exec sinks receive for each entry. */
export interface DeliveryDocument {
  /** Stream entry id. */
  id: string;
  /** Entry kind. */
  type: EntryType;
  /** `account:mailbox:uidvalidity:uid` for emails (`…:uid:modseq` updates, `…:uid:deleted`); the same on every re-delivery. */
  idempotency_key: string;
  /** Attempt number, 1 on the first delivery. */
  attempt: number;
  /** The payload (see `EmailPayload`, and `MessageUpdatedPayload` etc. for the other types). */
  payload: EntryPayload;
}

/** The {@link DeliveryDocument} of a delivery. */
export function deliveryDocument(delivery: Delivery): DeliveryDocument {
  return {
    id: delivery.id,
    type: delivery.type,
    idempotency_key: delivery.idempotencyKey,
    attempt: delivery.attempt,
    payload: delivery.payload,
  };
}

/**
 * The {@link DeliveryDocument} of a delivery as JSON text on one line, the
 * text stdout, file, webhook and exec sinks send. The stored payload text is
 * embedded as it is when there is one (it is the JSON the producer wrote;
 * serialising the parsed object again costs a few µs per entry and gives the
 * same text); text with a line break in it (pretty-printed by another
 * writer) is serialised again, so a document is always one line.
 */
export function deliveryJson(delivery: Delivery): string {
  const [head, payload, tail] = deliveryJsonParts(delivery);
  return head + payload + tail;
}

/**
 * {@link deliveryJson}'s text in three parts that make it when joined: the
 * document up to the payload, the stored payload text itself (not copied),
 * and the closing brace; or the whole text and two empty parts when the
 * payload is serialised again. A sink that encodes the parts one after the
 * other never builds the joined string (the file sink: a 3 KB copy per
 * entry less).
 */
export function deliveryJsonParts(delivery: Delivery): readonly [string, string, string] {
  const stored = delivery.payloadJson;
  if (stored === undefined || stored.includes("\n") || stored.includes("\r")) {
    return [JSON.stringify(deliveryDocument(delivery)), "", ""];
  }
  const head = `{"id":${JSON.stringify(delivery.id)},"type":${JSON.stringify(delivery.type)},` +
    `"idempotency_key":${JSON.stringify(delivery.idempotencyKey)},` +
    `"attempt":${delivery.attempt},"payload":`;
  return [head, stored, "}"];
}

/**
 * Whether `error` means "never retry". Besides `instanceof`, the `code` and
 * `name` are checked so that a handler module importing `PermanentError` from
 * another copy of `ingest` (a different module URL) is still understood.
 */
export function isPermanentFailure(error: unknown): boolean {
  if (error instanceof PermanentError) return true;
  if (typeof error !== "object" || error === null) return false;
  const { code, name } = error as { code?: unknown; name?: unknown };
  return code === "PERMANENT" || name === "PermanentError";
}
