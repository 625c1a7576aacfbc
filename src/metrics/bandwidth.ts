/**
 * How many bytes an account downloaded over IMAP in the last hours, from the
 * producer's hourly counters (`producer_bandwidth:{account}:{hour}`). Gmail
 * allows about 2,500 MB per day over IMAP; beyond that it throttles or
 * blocks the account.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { bandwidthHour, bandwidthKey } from "../redis/keys.ts";
import { isCluster, type RedisClient } from "../redis/client.ts";

/** Gmail's documented IMAP download limit per account and day, in bytes (2,500 MB). */
export const GMAIL_DAILY_DOWNLOAD_BYTES = 2_500_000_000;

/** Options of {@link readDownloadedBytes}. */
export interface DownloadedBytesOptions {
  /** How many hourly buckets, the current one included. Default 24. */
  hours?: number;
  /** Clock in ms. Default `Date.now`. */
  now?: number;
  /** The account's partition (`partitionOf`); unset with one partition. */
  partition?: number;
}

/** Sum of the hourly download counters of `account` over the last `hours` hours. */
export async function readDownloadedBytes(
  redis: RedisClient,
  account: string,
  options: DownloadedBytesOptions = {},
): Promise<number> {
  const hours = options.hours ?? 24;
  if (!Number.isInteger(hours) || hours < 1) {
    throw new InvalidArgumentError(
      `Cannot read bandwidth: hours must be >= 1, current value is ${hours}`,
    );
  }
  const current = bandwidthHour(options.now ?? Date.now());
  const keys = Array.from(
    { length: hours },
    (_, i) => bandwidthKey(account, current - i, options.partition),
  );
  // Without a partition's hash tag the hours lie in different cluster slots: no MGET there.
  const values = isCluster(redis) && options.partition === undefined
    ? await Promise.all(keys.map((key) => redis.get(key)))
    : await redis.mget(...keys);
  return values.reduce((sum, value) => sum + (Number(value ?? 0) || 0), 0);
}
