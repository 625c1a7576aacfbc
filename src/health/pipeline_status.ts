/**
 * The stream parts of `/status`: the pipeline of a long-running command and
 * the whole body of the standalone exporter, both built from the core views
 * (the same JSON `stream inspect --json` and `state get --json` print).
 *
 * @module
 */

import { describeError } from "../errors.ts";
import type { AccountLabeler } from "../metrics/account_label.ts";
import type { RedisCollector, RedisSnapshot } from "../metrics/redis_collector.ts";
import { type CursorView, cursorView } from "../state/cursor_view.ts";
import { type StreamReportView, streamReportView } from "../stream/report_view.ts";

/** The exporter's `/status` body. */
export interface ExporterStatus {
  /** The stream as `stream inspect --json` shows it. */
  readonly stream: StreamReportView;
  /** Every mailbox's cursor, its account shown by its metrics label. */
  readonly mailboxes: readonly CursorView[];
  /** Bytes downloaded per account label in the last 24 h. */
  readonly downloaded_last_24h_bytes: Record<string, number>;
}

/** The `/status` body of `metrics serve`: the stream as `stream inspect --json`, mailboxes by label. */
export function exporterStatus(snapshot: RedisSnapshot, label: AccountLabeler): ExporterStatus {
  return {
    stream: streamReportView(snapshot.stream),
    mailboxes: snapshot.cursors.map((cursor) => cursorView(cursor, label(cursor.account))),
    downloaded_last_24h_bytes: Object.fromEntries(
      [...snapshot.downloaded].map(([account, bytes]) => [label(account), bytes]),
    ),
  };
}

/**
 * The `pipeline` part of a long-running command's `/status`: the stream as
 * `stream inspect --json` shows it, or the error when Redis cannot be read.
 */
export async function pipelineStatus(
  collector: RedisCollector,
): Promise<StreamReportView | { error: string }> {
  try {
    const { stream } = await collector.snapshot();
    return streamReportView(stream);
  } catch (error) {
    return { error: describeError(error) };
  }
}
