import assert from "node:assert/strict";
import { connectRedis } from "../src/redis/connection.ts";
import { silentLogger } from "../src/log/logger.ts";
import { loadConfig } from "../src/config/config.ts";
import { bandwidthHour, bandwidthKey } from "../src/redis/keys.ts";
import { inspectStream } from "../src/stream/inspect.ts";
import { accountLabeler, hashedAccountLabel } from "../src/metrics/account_label.ts";
import { readDownloadedBytes } from "../src/metrics/bandwidth.ts";
import { createProducerMetrics } from "../src/metrics/producer.ts";
import { registerRedisCollector } from "../src/metrics/redis_collector.ts";
import { createMetricsRegistry } from "../src/metrics/registry.ts";
import { createWorkerMetrics } from "../src/metrics/worker.ts";
import { combineObservers, type ProducerObserver } from "../src/observe/events.ts";
import { parseMetrics, sampleValue } from "./harness/metrics_text.ts";
import { startRedis } from "./harness/redis_server.ts";

const ADDRESS = "Alice.Smith@example.test";
const INBOX = { account: ADDRESS, mailbox: "INBOX" };

Deno.test("producer metrics keep the seed's names and label the account by its alias", async () => {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const observer = createProducerMetrics(registry, { accountAlias: "work", account: ADDRESS });
  observer.published?.(INBOX, 3, 1);
  observer.published?.(INBOX, 2, 0);
  observer.polled?.(INBOX, 0.2, "ok");
  observer.polled?.(INBOX, 4, "error");
  observer.parseError?.(INBOX);
  observer.bytesDownloaded?.(ADDRESS, 2048);
  observer.tokenRefresh?.(ADDRESS, "ok");
  observer.tokenRefresh?.(ADDRESS, "error");
  observer.leaseHeld?.(INBOX, true);
  observer.backlogPaused?.(INBOX, true);
  observer.backlogPaused?.(INBOX, false);
  observer.mailboxReset?.(INBOX);
  observer.error?.(INBOX, new Error("boom"), 1000);
  observer.progress?.(INBOX, 40, 100);
  const text = await registry.metrics();
  const samples = parseMetrics(text);
  const labels = { account: "work", mailbox: "INBOX" };
  assert.equal(sampleValue(samples, "email_ingestion_emails_produced_total", labels), 5);
  assert.equal(sampleValue(samples, "email_ingestion_duplicates_skipped_total", labels), 1);
  assert.equal(
    sampleValue(samples, "email_ingestion_imap_poll_duration_seconds_count", {
      ...labels,
      outcome: "ok",
    }),
    1,
  );
  assert.equal(
    sampleValue(samples, "email_ingestion_imap_poll_duration_seconds_count", {
      ...labels,
      outcome: "error",
    }),
    1,
  );
  assert.equal(sampleValue(samples, "email_ingestion_parse_errors_total", labels), 1);
  assert.equal(
    sampleValue(samples, "email_ingestion_imap_downloaded_bytes_total", { account: "work" }),
    2048,
  );
  assert.equal(
    sampleValue(samples, "email_ingestion_token_refresh_total", {
      account: "work",
      outcome: "error",
    }),
    1,
  );
  assert.equal(sampleValue(samples, "email_ingestion_producer_lease_held", labels), 1);
  assert.equal(sampleValue(samples, "email_ingestion_backlog_paused", labels), 0);
  assert.equal(sampleValue(samples, "email_ingestion_mailbox_resets_total", labels), 1);
  assert.equal(sampleValue(samples, "email_ingestion_producer_errors_total", labels), 1);
  assert.equal(sampleValue(samples, "email_ingestion_sync_remaining_messages", labels), 60);
  assert.ok(!/alice|example\.test|@/i.test(text), "no address in the exposition");
});

Deno.test("without an alias the account label is a short hash that hides the address", async () => {
  const label = accountLabeler({});
  assert.equal(label(ADDRESS), label(" alice.smith@EXAMPLE.test "));
  assert.match(label(ADDRESS), /^acct-[0-9a-f]{12}$/);
  assert.notEqual(label(ADDRESS), hashedAccountLabel("bob@example.test"));
  const owned = accountLabeler({ accountAlias: "work", account: ADDRESS });
  assert.equal(owned("alice.smith@example.test"), "work");
  assert.equal(owned("bob@example.test"), hashedAccountLabel("bob@example.test"));

  const registry = createMetricsRegistry({ defaultMetrics: false });
  createProducerMetrics(registry, {}).published?.(INBOX, 1, 0);
  const text = await registry.metrics();
  assert.match(text, new RegExp(`account="${hashedAccountLabel(ADDRESS)}"`));
  assert.ok(!/alice/i.test(text));
});

Deno.test("the connection state is one-hot and server silence is measured at scrape time", async () => {
  let clock = 1_000_000;
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const observer = createProducerMetrics(registry, { accountAlias: "a", now: () => clock });
  observer.connectionState?.(INBOX, "connected");
  observer.connectionState?.(INBOX, "idle");
  clock += 5_000;
  observer.serverHeard?.(INBOX);
  clock += 42_000;
  const samples = parseMetrics(await registry.metrics());
  const labels = { account: "a", mailbox: "INBOX" };
  assert.equal(
    sampleValue(samples, "email_ingestion_imap_connection_state", { ...labels, state: "idle" }),
    1,
  );
  assert.equal(
    sampleValue(samples, "email_ingestion_imap_connection_state", {
      ...labels,
      state: "connected",
    }),
    0,
  );
  assert.equal(sampleValue(samples, "email_ingestion_imap_server_silence_seconds", labels), 42);
});

Deno.test("producer metrics count reconnects per mailbox, not the first connection", async () => {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const observer = createProducerMetrics(registry, { accountAlias: "a" });
  observer.connectionState?.(INBOX, "connecting");
  observer.connectionState?.(INBOX, "connected");
  const labels = { account: "a", mailbox: "INBOX" };
  const first = parseMetrics(await registry.metrics());
  assert.equal(sampleValue(first, "email_ingestion_imap_reconnects_total", labels) ?? 0, 0);
  observer.connectionState?.(INBOX, "disconnected");
  observer.connectionState?.(INBOX, "connecting");
  observer.connectionState?.(INBOX, "connecting");
  const after = parseMetrics(await registry.metrics());
  assert.equal(sampleValue(after, "email_ingestion_imap_reconnects_total", labels), 2);
});

Deno.test("worker metrics count each outcome under the seed's names", async () => {
  let clock = 1_700_000_000_000;
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const observer = createWorkerMetrics(registry, { group: "g1", now: () => clock });
  const before = parseMetrics(await registry.metrics());
  assert.equal(sampleValue(before, "email_ingestion_emails_processed_total", { group: "g1" }), 0);
  observer.handled?.("processed", 0.004, 2.5);
  observer.handled?.("processed", 0.002, undefined);
  observer.handled?.("duplicate", 0.001, undefined);
  observer.handled?.("retry_scheduled", 0.01, undefined);
  observer.handled?.("dead_lettered", 0.01, undefined);
  observer.failed?.("retryable");
  observer.failed?.("permanent");
  observer.reclaimed?.(3);
  clock += 1_000;
  observer.heartbeat?.();
  const samples = parseMetrics(await registry.metrics());
  const g = { group: "g1" };
  assert.equal(sampleValue(samples, "email_ingestion_emails_processed_total", g), 2);
  assert.equal(sampleValue(samples, "email_ingestion_duplicates_acknowledged_total", g), 1);
  assert.equal(sampleValue(samples, "email_ingestion_backoff_retries_total", g), 1);
  assert.equal(sampleValue(samples, "email_ingestion_dlq_messages_total", g), 1);
  assert.equal(
    sampleValue(samples, "email_ingestion_emails_failed_total", { ...g, reason: "permanent" }),
    1,
  );
  assert.equal(sampleValue(samples, "email_ingestion_processing_latency_seconds_count", g), 5);
  assert.equal(sampleValue(samples, "email_ingestion_end_to_end_latency_seconds_count", g), 1);
  assert.equal(sampleValue(samples, "email_ingestion_end_to_end_latency_seconds_sum", g), 2.5);
  assert.equal(sampleValue(samples, "email_ingestion_entries_reclaimed_total", g), 3);
  assert.equal(
    sampleValue(samples, "email_ingestion_worker_last_heartbeat_timestamp_seconds", g),
    1_700_000_001,
  );
});

Deno.test("combineObservers feeds metrics and another observer alike", async () => {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const seen: number[] = [];
  const own: ProducerObserver = { published: (_ref, n) => seen.push(n) };
  const observer = combineObservers(createProducerMetrics(registry, { accountAlias: "a" }), own);
  observer.published?.(INBOX, 7, 0);
  assert.equal((observer as Record<string, unknown>).heartbeat, undefined);
  assert.deepEqual(seen, [7]);
  const samples = parseMetrics(await registry.metrics());
  assert.equal(
    sampleValue(samples, "email_ingestion_emails_produced_total", {
      account: "a",
      mailbox: "INBOX",
    }),
    7,
  );
});

Deno.test("process metrics are included by default", async () => {
  const registry = createMetricsRegistry({ component: "produce" });
  const samples = parseMetrics(await registry.metrics());
  assert.ok(sampleValue(samples, "process_resident_memory_bytes")! > 0);
  assert.equal(
    sampleValue(samples, "email_ingestion_build_info", { component: "produce" }),
    1,
  );
});

Deno.test("the Redis collector reads stream, groups, cursors and 24 h downloads at scrape time", async (t) => {
  await using server = await startRedis();
  const config = loadConfig({ env: { REDIS_URL: server.url } });
  const redis = await connectRedis(config.redis, { name: "test", logger: silentLogger });
  const prefix = `m${crypto.randomUUID().slice(0, 8)}`;
  const stream = `${prefix}:stream`;
  const dlq = `${prefix}:dlq`;
  const now = Date.now();
  try {
    for (let i = 0; i < 5; i++) await redis.xadd(stream, "*", "type", "email", "n", String(i));
    await redis.xadd(dlq, "*", "type", "email");
    await redis.xgroup("CREATE", stream, "workers", "0");
    await redis.xreadgroup("GROUP", "workers", "c1", "COUNT", 2, "STREAMS", stream, ">");
    await redis.set(`producer_state:${ADDRESS}:INBOX:last_uid`, "41");
    await redis.set(`producer_state:${ADDRESS}:INBOX:total_emails`, "40");
    await redis.set(
      `producer_state:${ADDRESS}:INBOX:last_poll`,
      new Date(now - 90_000).toISOString(),
    );
    const hour = bandwidthHour(now);
    await redis.set(bandwidthKey(ADDRESS, hour), "1000");
    await redis.set(bandwidthKey(ADDRESS, hour - 23), "500");
    await redis.set(bandwidthKey(ADDRESS, hour - 24), "99999"); // older than 24 h

    const registry = createMetricsRegistry({ defaultMetrics: false });
    registerRedisCollector(registry, {
      redis,
      stream,
      dlqStream: dlq,
      labelAccount: accountLabeler({ accountAlias: "work", account: ADDRESS }),
      now: () => now,
      snapshotReuseMs: 0,
    });

    await t.step("gauges equal stream inspect", async () => {
      const samples = parseMetrics(await registry.metrics());
      const report = await inspectStream(redis, { stream, dlqStream: dlq, now: () => now });
      const group = report.groups[0]!;
      assert.equal(sampleValue(samples, "email_ingestion_redis_up"), 1);
      assert.equal(sampleValue(samples, "email_ingestion_stream_depth", { stream }), 5);
      assert.equal(sampleValue(samples, "email_ingestion_dlq_depth", { stream: dlq }), 1);
      const gl = { stream, group: "workers" };
      assert.equal(sampleValue(samples, "email_ingestion_consumer_group_lag", gl), group.lag);
      assert.equal(group.lag, 3);
      assert.equal(sampleValue(samples, "email_ingestion_consumer_group_pending", gl), 2);
      assert.equal(sampleValue(samples, "email_ingestion_consumer_group_consumers", gl), 1);
      assert.equal(
        sampleValue(samples, "email_ingestion_oldest_pending_age_seconds", gl),
        group.oldestPendingAgeMs! / 1000,
      );
      const mb = { account: "work", mailbox: "INBOX" };
      assert.equal(sampleValue(samples, "email_ingestion_mailbox_last_poll_age_seconds", mb), 90);
      assert.equal(sampleValue(samples, "email_ingestion_mailbox_last_uid", mb), 41);
      assert.equal(sampleValue(samples, "email_ingestion_mailbox_emails_published_total", mb), 40);
      assert.equal(
        sampleValue(samples, "email_ingestion_imap_downloaded_last_24h_bytes", { account: "work" }),
        1500,
      );
      assert.equal(sampleValue(samples, "email_ingestion_imap_daily_quota_bytes"), 2_500_000_000);
    });

    await t.step("readDownloadedBytes sums exactly the last 24 hourly buckets", async () => {
      assert.equal(await readDownloadedBytes(redis, ADDRESS, { now }), 1500);
      assert.equal(await readDownloadedBytes(redis, ADDRESS, { now, hours: 25 }), 101499);
      assert.equal(await readDownloadedBytes(redis, "nobody@example.test", { now }), 0);
    });

    await t.step(
      "known mailboxes update every scrape; new ones appear after a rescan",
      async () => {
        const rescanning = createMetricsRegistry({ defaultMetrics: false });
        const scanOnce = createMetricsRegistry({ defaultMetrics: false });
        for (
          const [registry, mailboxRescanMs] of [[rescanning, 0], [scanOnce, 3_600_000]] as const
        ) {
          registerRedisCollector(registry, {
            redis,
            stream,
            dlqStream: dlq,
            snapshotReuseMs: 0,
            mailboxRescanMs,
          });
          await registry.metrics(); // first scrape discovers INBOX
        }
        await redis.set(`producer_state:${ADDRESS}:INBOX:last_uid`, "42");
        await redis.set(`producer_state:${ADDRESS}:Archive:last_uid`, "7");
        const account = hashedAccountLabel(ADDRESS);
        const uid = async (registry: typeof scanOnce, mailbox: string) =>
          sampleValue(parseMetrics(await registry.metrics()), "email_ingestion_mailbox_last_uid", {
            account,
            mailbox,
          });
        assert.equal(await uid(scanOnce, "INBOX"), 42);
        assert.equal(await uid(scanOnce, "Archive"), undefined);
        assert.equal(await uid(rescanning, "Archive"), 7);
      },
    );

    await t.step("scrapes more frequent than the reuse window still see fresh values", async () => {
      const frequent = createMetricsRegistry({ defaultMetrics: false });
      registerRedisCollector(frequent, { redis, stream, dlqStream: dlq, snapshotReuseMs: 50 });
      const depth = async () =>
        sampleValue(parseMetrics(await frequent.metrics()), "email_ingestion_stream_depth", {
          stream,
        });
      const before = (await depth())!;
      await redis.xadd(stream, "*", "type", "email");
      const deadline = Date.now() + 10_000;
      while ((await depth()) !== before + 1) {
        assert.ok(Date.now() < deadline, "the snapshot was never refreshed");
        await new Promise((r) => setTimeout(r, 10));
      }
      await redis.xdel(stream, (await redis.xrevrange(stream, "+", "-", "COUNT", 1))[0]![0]);
    });

    await t.step("a deleted group disappears from the next scrape", async () => {
      await redis.xgroup("DESTROY", stream, "workers");
      const samples = parseMetrics(await registry.metrics());
      assert.equal(
        sampleValue(samples, "email_ingestion_consumer_group_lag", { stream }),
        undefined,
      );
    });
  } finally {
    redis.disconnect();
  }
});

Deno.test("a scrape still succeeds when Redis is down, with redis_up 0", async () => {
  await using server = await startRedis();
  const config = loadConfig({ env: { REDIS_URL: server.url } });
  const redis = await connectRedis(config.redis, { name: "test", logger: silentLogger });
  try {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    registerRedisCollector(registry, {
      redis,
      stream: "s",
      dlqStream: "s:dlq",
      timeoutMs: 500,
    });
    await server.stop({ hard: true });
    const samples = parseMetrics(await registry.metrics());
    assert.equal(sampleValue(samples, "email_ingestion_redis_up"), 0);
    assert.equal(sampleValue(samples, "email_ingestion_stream_depth", { stream: "s" }), undefined);
  } finally {
    redis.disconnect();
  }
});
