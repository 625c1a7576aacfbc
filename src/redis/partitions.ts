/**
 * Stream partitions (`STREAM_PARTITIONS`). With one partition nothing
 * changes: one stream named `REDIS_STREAM_NAME`, the seed's key names. With
 * N > 1 there are N streams `<stream>:{p<i>}` and each account belongs to one
 * partition, `partitionOf(account, n)`, a stable hash (FNV-1a, 32 bit, of the
 * lower-cased address, modulo N): the same on every host and every release,
 * so a restart or another producer process finds the account's cursor where
 * the last one left it. Every key of a commit carries the partition's hash
 * tag (see `mailboxScope` in keys.ts), so on Redis Cluster the whole commit
 * lives in one slot and stays one atomic script.
 *
 * @module
 */

import { type MailboxRef, partitionTag } from "./keys.ts";

/**
 * The partition of an account, or `undefined` with one partition (the
 * seed's key names). Addresses are compared case-insensitively.
 */
export function partitionOf(account: string, partitions: number): number | undefined {
  if (partitions <= 1) return undefined;
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(account.toLowerCase())) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/** The stream of a partition: `<stream>:{p<i>}`, or `stream` itself without partitions. */
export function partitionStream(stream: string, partition: number | undefined): string {
  return partition === undefined ? stream : `${stream}:${partitionTag(partition)}`;
}

/** Every partition's stream, in partition order (one partition: `[stream]`). */
export function partitionStreams(stream: string, partitions: number): string[] {
  if (partitions <= 1) return [stream];
  return Array.from({ length: partitions }, (_, i) => partitionStream(stream, i));
}

/** The partition numbers, `[undefined]` with one partition. */
export function partitionNumbers(partitions: number): (number | undefined)[] {
  return partitions <= 1 ? [undefined] : Array.from({ length: partitions }, (_, i) => i);
}

/** The ref of a mailbox of an account, its partition set. */
export function mailboxRef(account: string, mailbox: string, partitions: number): MailboxRef {
  const partition = partitionOf(account, partitions);
  return partition === undefined ? { account, mailbox } : { account, mailbox, partition };
}
