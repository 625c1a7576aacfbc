/**
 * Fault scenarios between the producer and IMAP: connections dropped after
 * some bytes, stalled mid-command, black-holed while idling. Each runs the
 * real `ingest produce` as a child process against Dovecot behind the fault
 * proxy (tests/harness/tcp_proxy.ts) and reads its counts back from Redis.
 *
 * @module
 */

import { TEST_USER } from "../harness/pipeline_env.ts";
import { freePort } from "../harness/ports.ts";
import { realisticMessage } from "../harness/mail.ts";
import {
  countProblems,
  countStream,
  type ImapFaultRig,
  linesMatching,
  mailboxState,
  sampleReady,
  spawnProducer,
  startImapFaultRig,
  waitUntil,
} from "./imap_support.ts";
import { type FaultReport, type FaultScenario, NO_SINK, type ScenarioOptions } from "./scenario.ts";

const seconds = (ms: number) => Math.round(ms / 100) / 10;

function report(
  scenario: string,
  started: number,
  fields: Omit<FaultReport, "scenario" | "ok" | "sink" | "dlq" | "seconds">,
): FaultReport {
  return {
    scenario,
    ok: fields.problems.length === 0,
    sink: NO_SINK,
    dlq: { total: 0, reasons: {} },
    seconds: seconds(performance.now() - started),
    ...fields,
  };
}

/**
 * (a) Every connection dropped after a random 20–500 kB: `--once` still syncs
 * exactly once; then a live producer under drops delivers new mail.
 */
async function imapDrop(options: ScenarioOptions): Promise<FaultReport> {
  const started = performance.now();
  const messages = options.quick ? 200 : 3_000;
  const [minBytes, maxBytes] = options.quick ? [20_000, 200_000] : [20_000, 500_000];
  await using rig = await startImapFaultRig(messages);
  rig.proxy.setMode({ kind: "drop", minBytes, maxBytes, seed: options.seed });
  options.log(`${messages} messages; each connection dropped after ${minBytes}-${maxBytes} bytes`);
  const producer = spawnProducer(["--once"], rig.env());
  const code = await producer.exit();
  const counts = await countStream(rig.redis, rig.stream, messages);
  const problems = countProblems(counts, messages);
  if (code !== 0) problems.push(`ingest produce --once exited ${code}`);
  if (linesMatching(producer.lines, /Uncaught|unhandled/i) > 0) {
    problems.push("an unhandled rejection was logged");
  }
  if (rig.proxy.stats.dropped === 0) problems.push("the proxy never dropped a connection");
  const onceDropped = rig.proxy.stats.dropped;
  const live = await liveUnderDrops(rig, options, messages);
  problems.push(...live.problems);
  const final = await countStream(rig.redis, rig.stream, messages + live.appended);
  problems.push(...countProblems(final, messages + live.appended));
  return report("imap_drop", started, {
    mailbox_messages: messages + live.appended,
    distinct_entries: final.distinct,
    duplicates: final.duplicates,
    recovery_seconds: null,
    problems,
    details: {
      exit_code: code,
      connections: rig.proxy.stats.accepted,
      dropped_connections: onceDropped,
      mb_through_proxy: Math.round(rig.proxy.stats.bytes / 1e5) / 10,
      reconnect_lines: linesMatching(producer.lines, /mailbox failed: retrying/),
      live_appended: live.appended,
      live_dropped_connections: rig.proxy.stats.dropped - onceDropped,
      live_exit_code_on_sigterm: live.code,
      live_seconds: live.seconds,
    },
  });
}

/**
 * The same fault under a live (IDLE) producer: connections dropped every
 * 4–12 kB while messages keep arriving one by one; it must deliver each and
 * still stop with exit 0 on SIGTERM.
 */
async function liveUnderDrops(rig: ImapFaultRig, options: ScenarioOptions, already: number) {
  const appended = options.quick ? 20 : 50;
  const started = performance.now();
  rig.proxy.setMode({ kind: "drop", minBytes: 4_000, maxBytes: 12_000, seed: options.seed + 1 });
  const producer = spawnProducer([], rig.env({ IMAP_IDLE_CHECK_SECONDS: "5" }));
  const problems: string[] = [];
  for (let i = 0; i < appended; i++) {
    await rig.dovecot.append(TEST_USER, "INBOX", await realisticMessage(already + i));
    await new Promise((r) => setTimeout(r, 100));
  }
  const arrived = await waitUntil(
    async () => (await countStream(rig.redis, rig.stream, 0)).entries >= already + appended,
    120_000,
  );
  if (!arrived) problems.push("the live producer did not deliver the new messages in 120 s");
  producer.child.kill("SIGTERM");
  const code = await producer.exit();
  if (code !== 0) problems.push(`the live producer exited ${code} on SIGTERM`);
  if (linesMatching(producer.lines, /Uncaught|unhandled/i) > 0) {
    problems.push("an unhandled rejection was logged by the live producer");
  }
  return { appended, code, problems, seconds: seconds(performance.now() - started) };
}

/**
 * (b) Bytes stop mid-FETCH with the socket open: the watchdog declares the
 * connection dead, `/ready` answers 503 within a minute, the producer
 * reconnects and `--once` finishes exactly once.
 */
async function imapStall(options: ScenarioOptions): Promise<FaultReport> {
  const started = performance.now();
  const messages = options.quick ? 300 : 3_000;
  await using rig = await startImapFaultRig(messages);
  const afterBytes = options.quick ? 150_000 : 1_000_000;
  rig.proxy.setMode({ kind: "stall", afterBytes });
  const healthPort = freePort();
  const timeouts: Record<string, string> = options.quick
    ? { IMAP_COMMAND_TIMEOUT_SECONDS: "2" }
    : {};
  options.log(`${messages} messages; the first connection stalls after ${afterBytes} bytes`);
  const producer = spawnProducer(
    ["--once", "--health-port", String(healthPort)],
    rig.env(timeouts),
  );
  const ready = sampleReady(healthPort);
  const problems: string[] = [];
  // Real networks stall one connection; the next one gets through.
  const stalled = await waitUntil(() => rig.proxy.stats.stalled > 0, 60_000);
  if (!stalled) problems.push("the proxy never stalled the connection");
  rig.proxy.setMode({ kind: "pass" });
  const stallAt = rig.proxy.stats.firstStallAt ?? performance.now();
  const atStall = (await countStream(rig.redis, rig.stream, 0)).entries;
  let recoveredAt: number | undefined;
  const grew = waitUntil(async () => {
    if ((await countStream(rig.redis, rig.stream, 0)).entries <= atStall) return false;
    recoveredAt = performance.now();
    return true;
  }, 180_000);
  const code = await producer.exit();
  await grew;
  await ready.stop();
  const counts = await countStream(rig.redis, rig.stream, messages);
  problems.push(...countProblems(counts, messages));
  if (code !== 0) problems.push(`ingest produce --once exited ${code}`);
  const notReady = ready.samples.find((s) => s.at >= stallAt && s.status === 503);
  const notReadyAfter = notReady ? (notReady.at - stallAt) / 1000 : null;
  if (notReadyAfter === null || notReadyAfter > 60) {
    problems.push("/ready did not answer 503 within a minute of the stall");
  }
  const reconnectAt = rig.proxy.stats.acceptedAt.find((t) => t > stallAt);
  if (reconnectAt === undefined) problems.push("the producer never reconnected");
  // Off a terminal a progress line comes every 10 s, also while nothing moves.
  const heartbeats = linesMatching(producer.lines, /no progress for/);
  if (!options.quick && heartbeats === 0) problems.push("no progress line during the stall");
  return report("imap_stall", started, {
    mailbox_messages: messages,
    distinct_entries: counts.distinct,
    duplicates: counts.duplicates,
    recovery_seconds: recoveredAt === undefined ? null : seconds(recoveredAt - stallAt),
    problems,
    details: {
      exit_code: code,
      entries_at_stall: atStall,
      ready_503_after_stall_s: notReadyAfter === null ? null : Math.round(notReadyAfter * 10) / 10,
      ready_503_reason: notReady?.reason ?? null,
      reconnect_after_stall_s: reconnectAt === undefined ? null : seconds(reconnectAt - stallAt),
      stall_lines: linesMatching(producer.lines, /connection stalled/),
      heartbeat_lines: heartbeats,
    },
  });
}

/**
 * (c) The IDLE connection is black-holed: the NOOP check finds it dead, the
 * producer reconnects, and the next new message arrives; the recovery time
 * is from the black hole to that message in the stream.
 */
async function imapBlackholeIdle(options: ScenarioOptions): Promise<FaultReport> {
  const started = performance.now();
  const messages = options.quick ? 20 : 200;
  await using rig = await startImapFaultRig(messages);
  const healthPort = freePort();
  const timeouts: Record<string, string> = options.quick
    ? { IMAP_COMMAND_TIMEOUT_SECONDS: "2", IMAP_IDLE_CHECK_SECONDS: "2" }
    : {};
  const producer = spawnProducer(["--health-port", String(healthPort)], rig.env(timeouts));
  const problems: string[] = [];
  const synced = await waitUntil(
    async () =>
      (await countStream(rig.redis, rig.stream, 0)).entries === messages &&
      (await mailboxState(healthPort)) === "idle",
    60_000,
  );
  if (!synced) problems.push("the initial sync did not end in IDLE");
  const ready = sampleReady(healthPort);
  rig.proxy.stallOpen();
  const holeAt = performance.now();
  options.log("IDLE connection black-holed; appending one message");
  await rig.dovecot.append(TEST_USER, "INBOX", await realisticMessage(messages));
  const budget = options.quick ? 30_000 : 400_000;
  const arrived = await waitUntil(
    async () => (await countStream(rig.redis, rig.stream, 0)).entries > messages,
    budget,
  );
  const recovery = arrived ? (performance.now() - holeAt) / 1000 : null;
  if (!arrived) problems.push(`the new message did not arrive within ${budget / 1000} s`);
  await ready.stop();
  producer.child.kill("SIGTERM");
  const code = await producer.exit();
  if (code !== 0) problems.push(`ingest produce exited ${code} on SIGTERM`);
  const counts = await countStream(rig.redis, rig.stream, messages + 1);
  problems.push(...countProblems(counts, messages + 1));
  const notReady = ready.samples.find((s) => s.status === 503);
  return report("imap_blackhole_idle", started, {
    mailbox_messages: messages + 1,
    distinct_entries: counts.distinct,
    duplicates: counts.duplicates,
    recovery_seconds: recovery === null ? null : Math.round(recovery * 10) / 10,
    problems,
    details: {
      exit_code: code,
      idle_check_seconds: Number(timeouts.IMAP_IDLE_CHECK_SECONDS ?? 120),
      ready_503_after_s: notReady ? seconds(notReady.at - holeAt) : null,
      ready_503_reason: notReady?.reason ?? null,
      connections: rig.proxy.stats.accepted,
    },
  });
}

/** The IMAP-side scenarios. */
export const IMAP_SCENARIOS: readonly FaultScenario[] = [
  {
    name: "imap_drop",
    summary:
      "every IMAP connection dropped after a random 20-500 kB: produce --once exits 0, each message once",
    run: imapDrop,
  },
  {
    name: "imap_stall",
    summary:
      "bytes stop mid-FETCH (socket open): reconnect, /ready 503 within a minute, finish exactly once",
    run: imapStall,
  },
  {
    name: "imap_blackhole_idle",
    summary:
      "the IDLE connection black-holed: the NOOP check finds it, the next message arrives after reconnect",
    run: imapBlackholeIdle,
  },
];
