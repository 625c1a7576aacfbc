/**
 * Gmail's limits on IMAP use that shape how `ingest` connects.
 *
 * @module
 */

/**
 * Simultaneous IMAP connections Gmail allows per account; more are refused at
 * login. The producer opens one per followed mailbox and, while a new
 * mailbox's history is fetched, one more for the account's history lane, so
 * an account with this many mailboxes fetches its history on the live path.
 */
export const GMAIL_MAX_CONNECTIONS = 15;
