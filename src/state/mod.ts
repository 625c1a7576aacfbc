/**
 * The producer's state: one cursor per mailbox (UIDVALIDITY, last UID), read, listed and reset.
 *
 * @module
 */

export * from "./cursor.ts";
