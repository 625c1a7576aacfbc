/**
 * The partitions a worker or an ops command works on: each partition's
 * stream with its own dead-letter stream, so a DLQ move (and its replay)
 * stays in the partition's hash slot.
 *
 * @module
 */

import { partitionStreams } from "../redis/partitions.ts";

/** One partition: its index, its stream and its DLQ. */
export interface StreamPartition {
  /** 0 .. N-1. */
  readonly index: number;
  /** `<stream>` with one partition, else `<stream>:{p<index>}`. */
  readonly stream: string;
  /** `<dlq>` with one partition, else `<dlq>:{p<index>}`. */
  readonly dlqStream: string;
}

/** The names {@link streamPartitionsOf} reads (a `config.redis`). */
export interface PartitionedStreamNames {
  /** The stream's base name (`REDIS_STREAM_NAME`). */
  readonly streamName: string;
  /** The DLQ's base name (`REDIS_DLQ_STREAM_NAME`). */
  readonly dlqStreamName: string;
  /** `STREAM_PARTITIONS`. */
  readonly partitions: number;
}

/** Every partition of `names`, in index order; one, named as before, without partitioning. */
export function streamPartitionsOf(names: PartitionedStreamNames): StreamPartition[] {
  const streams = partitionStreams(names.streamName, names.partitions);
  const dlqs = partitionStreams(names.dlqStreamName, names.partitions);
  return streams.map((stream, index) => ({ index, stream, dlqStream: dlqs[index]! }));
}

/** Orders stream ids (`ms-seq`) by time, then sequence: for merging partitions' entries. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = "0", aSeq = "0"] = a.split("-");
  const [bMs = "0", bSeq = "0"] = b.split("-");
  return Number(aMs) - Number(bMs) || Number(aSeq) - Number(bSeq);
}
