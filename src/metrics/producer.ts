/**
 * Producer metrics: a {@link ProducerObserver} that records what the
 * producer reports as Prometheus series, labelled by account label (never the
 * address) and mailbox.
 *
 * @module
 */

import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { MailboxRef } from "../redis/keys.ts";
import type { ConnectionState, ProducerObserver } from "../observe/events.ts";
import { type AccountLabeler, accountLabeler, type AccountLabelOptions } from "./account_label.ts";
import { METRIC_PREFIX } from "./registry.ts";

/** Every state of `email_ingestion_imap_connection_state`. */
export const CONNECTION_STATES: readonly ConnectionState[] = [
  "connecting",
  "connected",
  "idle",
  "disconnected",
  "needs_reauth",
];

/** Buckets of the IMAP poll histogram, in seconds (a round may download a backlog). */
export const POLL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];

/** Options of {@link createProducerMetrics}. */
export interface ProducerMetricsOptions extends AccountLabelOptions {
  /** Clock in ms, for tests. Default `Date.now`. */
  now?: () => number;
  /** Labels accounts (a fleet: each account by its registry alias); overrides the alias options. */
  labeler?: AccountLabeler;
}

/** Registers the producer's metrics on `registry` and returns the observer that feeds them. */
export function createProducerMetrics(
  registry: Registry,
  options: ProducerMetricsOptions = {},
): ProducerObserver {
  const now = options.now ?? Date.now;
  const label = options.labeler ?? accountLabeler(options);
  const lastHeard: LastHeard = new Map();
  const m = producerMetricFamilies(registry, lastHeard, now);
  const labelsOf = (ref: MailboxRef) => ({ account: label(ref.account), mailbox: ref.mailbox });
  const heard = (ref: MailboxRef) => {
    const labels = labelsOf(ref);
    lastHeard.set(`${labels.account}\n${labels.mailbox}`, { labels, at: now() });
  };

  return {
    ...sessionHooks(m, labelsOf, heard),
    polled(ref, seconds, outcome) {
      const labels = labelsOf(ref);
      m.pollDuration.observe({ ...labels, outcome }, seconds);
      if (outcome === "ok") m.lastSuccess.set(labels, now() / 1000);
    },
    published(ref, published, skippedCount) {
      const labels = labelsOf(ref);
      m.produced.inc(labels, published);
      m.entries.inc({ ...labels, type: "email" }, published);
      m.skipped.inc(labels, skippedCount);
    },
    parseError(ref) {
      m.parseErrors.inc(labelsOf(ref));
    },
    bytesDownloaded(account, count) {
      m.bytes.inc({ account: label(account) }, count);
    },
    tokenRefresh(account, outcome) {
      m.tokenRefresh.inc({ account: label(account), outcome });
    },
    error(ref) {
      m.errors.inc(labelsOf(ref));
    },
    progress(ref, done, total) {
      m.remaining.set(labelsOf(ref), Math.max(0, total - done));
    },
    backfillProgress(ref, done, total) {
      m.backfillRemaining.set(labelsOf(ref), Math.max(0, total - done));
    },
    backfillEnded(ref) {
      m.backfillRemaining.set(labelsOf(ref), 0);
    },
    mailboxReset(ref) {
      m.resets.inc(labelsOf(ref));
      m.entries.inc({ ...labelsOf(ref), type: "mailbox_reset" });
    },
    changesPublished(ref, type, count) {
      m.entries.inc({ ...labelsOf(ref), type }, count);
    },
  };
}

type MailboxLabels = { account: string; mailbox: string };
type LastHeard = Map<string, { labels: MailboxLabels; at: number }>;
type ProducerFamilies = ReturnType<typeof producerMetricFamilies>;

/** The hooks about a mailbox's IMAP session: connection state, server heard, lease, backlog. */
function sessionHooks(
  m: ProducerFamilies,
  labelsOf: (ref: MailboxRef) => MailboxLabels,
  heard: (ref: MailboxRef) => void,
): Pick<ProducerObserver, "connectionState" | "serverHeard" | "leaseHeld" | "backlogPaused"> {
  // Mailboxes that connected before: their next `connecting` is a reconnect.
  const connectedBefore = new Set<string>();
  return {
    connectionState(ref, state) {
      const labels = labelsOf(ref);
      if (state === "connecting") {
        const key = `${labels.account}\n${labels.mailbox}`;
        if (connectedBefore.has(key)) m.reconnects.inc(labels);
        connectedBefore.add(key);
      }
      for (const candidate of CONNECTION_STATES) {
        m.connection.set({ ...labels, state: candidate }, candidate === state ? 1 : 0);
      }
      // A fresh session starts with the server's greeting: it has just spoken.
      if (state === "connected") heard(ref);
    },
    serverHeard: heard,
    leaseHeld(ref, held) {
      m.lease.set(labelsOf(ref), held ? 1 : 0);
    },
    backlogPaused(ref, paused) {
      m.backlog.set(labelsOf(ref), paused ? 1 : 0);
    },
  };
}

// size: declarative table (the producer's metric families)
function producerMetricFamilies(registry: Registry, lastHeard: LastHeard, now: () => number) {
  const registers = [registry];
  const mailboxLabels = ["account", "mailbox"] as const;
  const produced = new Counter({
    name: `${METRIC_PREFIX}emails_produced_total`,
    help: "Emails committed to the stream.",
    labelNames: mailboxLabels,
    registers,
  });
  const entries = new Counter({
    name: `${METRIC_PREFIX}entries_produced_total`,
    help:
      "Stream entries committed, by type (email, mailbox_reset, message_updated, message_deleted).",
    labelNames: [...mailboxLabels, "type"] as const,
    registers,
  });
  const skipped = new Counter({
    name: `${METRIC_PREFIX}duplicates_skipped_total`,
    help:
      "Messages recognised as already published (same Message-ID/X-GM-MSGID) and not published again.",
    labelNames: mailboxLabels,
    registers,
  });
  const pollDuration = new Histogram({
    name: `${METRIC_PREFIX}imap_poll_duration_seconds`,
    help: "Duration of one sync round of a mailbox, by outcome (ok or error).",
    labelNames: [...mailboxLabels, "outcome"] as const,
    buckets: POLL_BUCKETS,
    registers,
  });
  const lastSuccess = new Gauge({
    name: `${METRIC_PREFIX}last_successful_poll_timestamp_seconds`,
    help: "Unix time of the last sync round of a mailbox that succeeded.",
    labelNames: mailboxLabels,
    registers,
  });
  const parseErrors = new Counter({
    name: `${METRIC_PREFIX}parse_errors_total`,
    help: "Messages published with a parse_error (malformed MIME).",
    labelNames: mailboxLabels,
    registers,
  });
  const bytes = new Counter({
    name: `${METRIC_PREFIX}imap_downloaded_bytes_total`,
    help: "Bytes fetched from the IMAP server by this process.",
    labelNames: ["account"] as const,
    registers,
  });
  const connection = new Gauge({
    name: `${METRIC_PREFIX}imap_connection_state`,
    help: "1 for the current state of a mailbox's IMAP session, 0 for the other states.",
    labelNames: [...mailboxLabels, "state"] as const,
    registers,
  });
  new Gauge({
    name: `${METRIC_PREFIX}imap_server_silence_seconds`,
    help: "Seconds since the IMAP server last sent anything on a mailbox's session (IDLE health).",
    labelNames: mailboxLabels,
    registers,
    collect() {
      this.reset();
      for (const { labels, at } of lastHeard.values()) this.set(labels, (now() - at) / 1000);
    },
  });
  const reconnects = new Counter({
    name: `${METRIC_PREFIX}imap_reconnects_total`,
    help: "IMAP sessions of a mailbox opened again after the first (drops, stalls, lease moves).",
    labelNames: mailboxLabels,
    registers,
  });
  const tokenRefresh = new Counter({
    name: `${METRIC_PREFIX}token_refresh_total`,
    help: "OAuth2 access-token refreshes, by outcome (ok or error).",
    labelNames: ["account", "outcome"] as const,
    registers,
  });
  const lease = new Gauge({
    name: `${METRIC_PREFIX}producer_lease_held`,
    help: "1 while this process holds the single-producer lease of a mailbox.",
    labelNames: mailboxLabels,
    registers,
  });
  const backlog = new Gauge({
    name: `${METRIC_PREFIX}backlog_paused`,
    help: "1 while fetching is paused because the stream backlog exceeds STREAM_BACKLOG_LIMIT.",
    labelNames: mailboxLabels,
    registers,
  });
  const resets = new Counter({
    name: `${METRIC_PREFIX}mailbox_resets_total`,
    help: "UIDVALIDITY changes handled (the mailbox was re-synced without re-publishing).",
    labelNames: mailboxLabels,
    registers,
  });
  const errors = new Counter({
    name: `${METRIC_PREFIX}producer_errors_total`,
    help: "Errors of a mailbox's sync (each is logged; the mailbox retries with backoff).",
    labelNames: mailboxLabels,
    registers,
  });
  const remaining = new Gauge({
    name: `${METRIC_PREFIX}sync_remaining_messages`,
    help: "Messages of the current sync round of a mailbox not yet published (backfill progress).",
    labelNames: mailboxLabels,
    registers,
  });
  const backfillRemaining = new Gauge({
    name: `${METRIC_PREFIX}backfill_remaining_messages`,
    help: "History messages of a new mailbox's backfill lane not yet published (live mail aside).",
    labelNames: mailboxLabels,
    registers,
  });
  return {
    backfillRemaining,
    produced,
    entries,
    skipped,
    pollDuration,
    lastSuccess,
    parseErrors,
    bytes,
    connection,
    reconnects,
    tokenRefresh,
    lease,
    backlog,
    resets,
    errors,
    remaining,
  };
}
