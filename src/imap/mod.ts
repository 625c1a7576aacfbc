/**
 * IMAP: the mailbox session the producer and doctor open (login, SELECT, FETCH, IDLE), error
 * classification, and the decoding of fetched messages into stream payloads (MIME structure,
 * charsets, transfer encodings, headers).
 *
 * @module
 */

export * from "./credentials.ts";
export * from "./gmail_limits.ts";
export * from "./mailbox_session.ts";
export * from "./imap_errors.ts";
export * from "./message_payload.ts";
