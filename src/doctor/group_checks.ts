/**
 * Doctor check of the stream's consumer groups: an orphaned group (no
 * consumer active for GROUP_ORPHAN_SECONDS while entries wait for it, see
 * src/stream/orphan.ts) blocks trimming and pauses the producer once its
 * backlog passes STREAM_BACKLOG_LIMIT.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { closeRedis, connectRedis, type RedisClient } from "../redis/connection.ts";
import { inspectPartitions } from "../stream/partitioned_inspect.ts";
import { streamPartitionsOf } from "../stream/partition_set.ts";
import { type CheckResult, reason, result, within } from "./check.ts";

/** Options of {@link checkGroups}. */
export interface GroupCheckOptions {
  logger: Logger;
  /** Bound on connecting and on the queries. */
  timeoutMs: number;
}

/** `stream.groups`: warns about orphaned groups; skips when Redis cannot be read. */
export async function checkGroups(
  config: Config,
  options: GroupCheckOptions,
): Promise<CheckResult> {
  let redis: RedisClient;
  try {
    redis = await connectRedis(config.redis, {
      name: "ingest:doctor:groups",
      logger: options.logger,
      connectTimeoutMs: options.timeoutMs,
      maxRetriesPerRequest: 0,
    });
  } catch {
    return result("stream.groups", "skip", "Redis is unreachable");
  }
  try {
    const thresholdSeconds = config.worker.groupOrphanSeconds;
    const report = await within(
      options.timeoutMs,
      "reading the consumer groups",
      () =>
        inspectPartitions(redis, {
          partitions: streamPartitionsOf(config.redis),
          stream: config.redis.streamName,
          dlqStream: config.redis.dlqStreamName,
          orphanMs: thresholdSeconds * 1000,
        }),
    );
    const orphaned = report.groups.filter((g) => g.orphaned);
    if (orphaned.length === 0) {
      return result(
        "stream.groups",
        "pass",
        `${report.groups.length} consumer group(s) on ${report.stream}, none orphaned`,
      );
    }
    const names = orphaned.map((g) => g.name);
    return result(
      "stream.groups",
      "warn",
      `group(s) ${names.join(", ")} of ${report.stream} had no active consumer for over ` +
        `${thresholdSeconds}s (GROUP_ORPHAN_SECONDS) while entries wait: they block trimming ` +
        `and can pause the producer`,
      names.map((name) =>
        `start a worker (ingest work --group ${name} --sink SPEC) or delete the group ` +
        `(ingest group delete --group ${name} --yes)`
      ).join("; "),
    );
  } catch (error) {
    return result("stream.groups", "skip", `could not read the groups: ${reason(error)}`);
  } finally {
    await closeRedis(redis);
  }
}
