/**
 * The producer: IMAP to the stream. One follower per mailbox (connect, back off, lease, sync
 * rounds, atomic commit of entries and cursor), started for an account by `startProducer`.
 *
 * @module
 */

export * from "./producer.ts";
export * from "./start_position.ts";
