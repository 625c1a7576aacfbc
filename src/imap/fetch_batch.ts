/**
 * What one fetch of a batch asks for and gives back.
 *
 * @module
 */

import type { AuthError, ImapError } from "../errors.ts";
import type { FetchedMessage } from "./message_payload.ts";

/** How much of each message to download. */
export interface FetchLimits {
  readonly bodyTextChars: number;
  readonly bodyHtmlChars: number;
  /** Larger messages get headers and structure only. */
  readonly maxMessageBytes: number;
}

/** One fetched batch. */
export interface FetchedBatch {
  /** In ascending UID order; UIDs expunged meanwhile are absent. */
  readonly messages: FetchedMessage[];
  /** Bytes downloaded (headers and text parts), for the bandwidth quota. */
  readonly bytes: number;
  /**
   * Set when the fetch broke off (connection dropped or stalled). `messages`
   * then holds only the longest prefix of the requested UIDs whose metadata
   * and text parts all arrived, and `throughUid` is the last UID of that
   * prefix (`undefined`: none), so a commit never skips a UID.
   */
  readonly interrupted?: { readonly error: ImapError | AuthError; readonly throughUid?: number };
}

/** What ended a wait for new mail. */
export type WaitOutcome = "changed" | "timeout" | "closed" | "aborted";
