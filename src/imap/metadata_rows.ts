/**
 * Phase 1 of a fetch: what is asked of the server for every message, and
 * how one answer row becomes a {@link FetchedMessage}.
 *
 * @module
 */

import type { FetchMessageObject } from "imapflow";
import type { GmailInfo } from "../stream/entry.ts";
import type { FetchedMessage } from "./message_payload.ts";
import type { BodyNode } from "./structure.ts";

/**
 * Phase 1. No ENVELOPE: the header block carries the same fields, and the
 * payload reads them from it (our own address and date rules, which the
 * ENVELOPE only short-cut); imapflow's ENVELOPE parsing (tokens, RFC 2047
 * decoding of every name) was a quarter of this phase's CPU.
 */
export const METADATA_QUERY = {
  uid: true,
  flags: true,
  size: true,
  internalDate: true,
  bodyStructure: true,
  headers: true,
  threadId: true,
  labels: true,
} as const;

/** One phase-1 row as the payload builder reads it (`gmail`: the server is Gmail). */
export function metadataRow(
  item: FetchMessageObject & { refusal?: string },
  gmail: boolean,
): FetchedMessage {
  return {
    uid: item.uid,
    size: item.size ?? 0,
    flags: [...(item.flags ?? [])],
    internalDate: item.internalDate,
    envelope: item.envelope,
    bodyStructure: item.bodyStructure as BodyNode | undefined,
    headers: item.headers,
    gmail: gmail ? gmailInfo(item) : null,
    fetchProblems: item.refusal ? [item.refusal] : undefined,
  };
}

function gmailInfo(item: FetchMessageObject): GmailInfo | null {
  if (!item.emailId) return null;
  return {
    msgid: item.emailId,
    thrid: item.threadId ?? null,
    labels: [...(item.labels ?? [])].sort(),
  };
}
