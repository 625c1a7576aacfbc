/**
 * What of an interrupted fetch may be committed. A connection can break
 * anywhere in a chunk's two fetch phases (metadata, then text parts); the
 * messages that arrived whole are worth committing before reconnecting, but
 * only as a prefix of the requested UIDs: the cursor must never move past a
 * message that was not published.
 *
 * @module
 */

import type { AuthError, ImapError } from "../errors.ts";
import type { FetchedBatch } from "./mailbox_session.ts";
import type { FetchedMessage } from "./message_payload.ts";

/**
 * The part of an interrupted fetch that can be committed: the longest prefix
 * of the requested UIDs that each have their metadata and every text part.
 * A UID missing from the metadata ends the prefix (it may only not have
 * arrived yet), so the cursor never moves past a message not published.
 */
export function interruptedBatch(
  requested: readonly number[],
  messages: readonly FetchedMessage[],
  incomplete: ReadonlySet<number>,
  bytes: number,
  error: ImapError | AuthError,
): FetchedBatch {
  const byUid = new Map(messages.map((m) => [m.uid, m]));
  const whole: FetchedMessage[] = [];
  let throughUid: number | undefined;
  for (const uid of requested) {
    const message = byUid.get(uid);
    if (!message || incomplete.has(uid)) break;
    whole.push(message);
    throughUid = uid;
  }
  return { messages: whole, bytes, interrupted: { error, throughUid } };
}
