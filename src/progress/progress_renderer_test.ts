import assert from "node:assert/strict";
import { formatBar, formatSeconds, progressEta, progressRate } from "./progress_format.ts";
import { createProgressRenderer, type ProgressRendererOptions } from "./progress_renderer.ts";
import { createStatusArea } from "./status_area.ts";
import { screen } from "./_terminal_screen.ts";

const INBOX = { account: "alice@example.test", mailbox: "INBOX" };
const ARCHIVE = { account: "alice@example.test", mailbox: "Archive" };

function fixture(options: Partial<ProgressRendererOptions> & { withLog?: boolean } = {}) {
  let clock = 1_000_000;
  const writes: string[] = [];
  const logs: { message: string; fields: Record<string, unknown> }[] = [];
  const { withLog, ...rest } = options;
  const renderer = createProgressRenderer({
    terminal: true,
    write: (text) => writes.push(text),
    log: withLog ? (message, fields) => logs.push({ message, fields }) : undefined,
    now: () => clock,
    heartbeatTimer: false,
    ...rest,
  });
  return {
    renderer,
    writes,
    logs,
    advance(ms: number) {
      clock += ms;
    },
  };
}

Deno.test("progressRate() and progressEta() follow the messages done since the round began", () => {
  const state = {
    label: "INBOX",
    done: 300,
    total: 1000,
    startedAt: 0,
    startDone: 100,
    updatedAt: 2_000,
  };
  assert.equal(progressRate(state), 100);
  assert.equal(progressEta(state), 7);
  assert.equal(progressRate({ ...state, updatedAt: 0 }), undefined);
  assert.equal(progressEta({ ...state, updatedAt: 0 }), undefined);
  assert.equal(formatSeconds(75), "1m15s");
  assert.equal(formatSeconds(3725), "1h02m");
  assert.equal(formatSeconds(undefined), "-");
});

Deno.test("formatBar() shows done of total, percent, rate and ETA, then the total time", () => {
  const state = {
    label: "INBOX",
    done: 250,
    total: 1000,
    startedAt: 0,
    startDone: 0,
    updatedAt: 5_000,
  };
  assert.equal(
    formatBar(state, 8),
    "INBOX  [##------]  250/1000  25%  50.0 msg/s  ETA 15s",
  );
  assert.equal(
    formatBar({ ...state, done: 1000, updatedAt: 20_000 }, 8),
    "INBOX  [########]  1000/1000  100%  50.0 msg/s  done in 20s",
  );
});

Deno.test("on a terminal, bars redraw in place at most every redrawIntervalMs", () => {
  const f = fixture({ redrawIntervalMs: 100 });
  f.renderer.progress(INBOX, 0, 1000);
  assert.equal(f.writes.length, 1);
  assert.equal(f.writes[0], `\r\x1b[2KINBOX  [${"-".repeat(24)}]  0/1000  0%  - msg/s  ETA -\n`);
  f.advance(50);
  f.renderer.progress(INBOX, 100, 1000);
  assert.equal(f.writes.length, 1, "no redraw within 100 ms");
  f.advance(950);
  f.renderer.progress(INBOX, 200, 1000);
  assert.equal(f.writes.length, 2);
  // Cursor goes up over the one drawn line before redrawing it.
  assert.ok(f.writes[1]!.startsWith("\x1b[1A\r\x1b[2K"));
  assert.ok(f.writes[1]!.includes("200/1000  20%  200 msg/s  ETA 4s"), f.writes[1]!);
});

Deno.test("on a terminal, every mailbox has its own bar and a finished bar is drawn at once", () => {
  const f = fixture({ redrawIntervalMs: 10_000 });
  f.renderer.progress(INBOX, 0, 10);
  f.renderer.progress(ARCHIVE, 0, 4);
  assert.equal(f.writes.length, 2, "a new mailbox is drawn at once");
  const two = f.writes[1]!;
  assert.ok(two.startsWith("\x1b[1A"));
  assert.ok(two.includes("\r\x1b[2KINBOX    ["), two);
  assert.ok(two.includes("\r\x1b[2KArchive  ["), two);
  f.advance(1_000);
  f.renderer.progress(ARCHIVE, 4, 4);
  assert.equal(f.writes.length, 3);
  assert.ok(f.writes[2]!.startsWith("\x1b[2A"));
  assert.ok(
    f.writes[2]!.includes(`Archive  [${"#".repeat(24)}]  4/4  100%  4.0 msg/s  done in 1s`),
    f.writes[2]!,
  );
  f.renderer.finish();
  assert.equal(f.writes.length, 4);
  f.renderer.progress(INBOX, 5, 10);
  assert.equal(f.writes.length, 4, "nothing after finish()");
});

Deno.test("off a terminal, a line is logged at most every logIntervalMs and at the end", () => {
  const f = fixture({ terminal: false, logIntervalMs: 10_000, withLog: true });
  f.renderer.progress(INBOX, 0, 1000);
  for (let done = 100; done < 1000; done += 100) {
    f.advance(2_000);
    f.renderer.progress(INBOX, done, 1000);
  }
  f.advance(2_000);
  f.renderer.progress(INBOX, 1000, 1000);
  f.renderer.progress(INBOX, 1000, 1000);
  assert.deepEqual(f.writes, [], "write is not used when log is given");
  // t=0 (start), t=10 s (500 done), t=20 s (finished)
  assert.deepEqual(f.logs.map((l) => l.fields.done), [0, 500, 1000]);
  assert.equal(f.logs[1]!.message, "backfill INBOX: 500/1000 (50%), 50.0 msg/s, ETA 10s");
  assert.deepEqual(f.logs[1]!.fields, {
    mailbox: "INBOX",
    done: 500,
    total: 1000,
    percent: 50,
    rate_per_second: 50,
    eta_seconds: 10,
  });
  assert.equal(f.logs[2]!.message, "backfill INBOX: 1000/1000 (100%), 50.0 msg/s, done");
  assert.ok(!JSON.stringify(f.logs).includes("alice@"), "no account address in logs");
});

Deno.test("a new round (another total) restarts the rate, and plain lines go to write", () => {
  const f = fixture({ terminal: false, logIntervalMs: 60_000 });
  f.renderer.progress(INBOX, 0, 100);
  f.advance(10_000);
  f.renderer.progress(INBOX, 100, 100);
  f.advance(60_000);
  f.renderer.progress(INBOX, 0, 20);
  f.advance(1_000);
  f.renderer.progress(INBOX, 20, 20);
  assert.deepEqual(f.writes, [
    "backfill INBOX: 0/100 (0%), - msg/s, ETA -\n",
    "backfill INBOX: 100/100 (100%), 10.0 msg/s, done\n",
    "backfill INBOX: 0/20 (0%), - msg/s, ETA -\n",
    "backfill INBOX: 20/20 (100%), 20.0 msg/s, done\n",
  ]);
});

Deno.test("a live run: after catching up, new mail updates one live line, never a 1/1 bar", () => {
  const f = fixture({ live: true, redrawIntervalMs: 0 });
  f.renderer.progress(INBOX, 0, 300);
  f.advance(3_000);
  f.renderer.progress(INBOX, 300, 300);
  f.renderer.polled(INBOX, 3, "ok");
  assert.deepEqual(screen(f.writes), ["INBOX  live · waiting for new mail · backfilled 300 in 3s"]);
  const before = f.writes.length;
  for (let i = 0; i < 3; i++) {
    f.advance(60_000);
    f.renderer.progress(INBOX, 0, 1);
    f.renderer.progress(INBOX, 1, 1);
    f.renderer.polled(INBOX, 0.1, "ok");
  }
  const shown = screen(f.writes);
  assert.equal(shown.length, 1);
  assert.match(
    shown[0]!,
    /^INBOX {2}live · 3 new since caught up, last \d\d:\d\d:\d\d · backfilled 300/,
  );
  assert.ok(!f.writes.slice(before).join("").includes("1/1"), "no per-message bar");
});

Deno.test("a live run: a mailbox with nothing to backfill waits on a live line; a big burst is a bar", () => {
  const f = fixture({ live: true, redrawIntervalMs: 0, liveBarThreshold: 100 });
  f.renderer.polled(INBOX, 0.2, "ok");
  assert.deepEqual(screen(f.writes), ["INBOX  live · waiting for new mail"]);
  f.renderer.progress(INBOX, 0, 500);
  f.advance(1_000);
  f.renderer.progress(INBOX, 250, 500);
  assert.match(screen(f.writes)[0]!, /^INBOX {2}\[#{12}-{12}\] {2}250\/500 {2}50%/);
  f.renderer.progress(INBOX, 500, 500);
  f.renderer.polled(INBOX, 2, "ok");
  assert.match(screen(f.writes)[0]!, /^INBOX {2}live · 500 new since caught up, last /);
});

Deno.test("a live run off a terminal logs backfill lines, not one line per new message", () => {
  const f = fixture({ terminal: false, live: true, withLog: true });
  f.renderer.progress(INBOX, 0, 10);
  f.renderer.progress(INBOX, 10, 10);
  f.renderer.polled(INBOX, 1, "ok");
  const logged = f.logs.length;
  f.renderer.progress(INBOX, 0, 1);
  f.renderer.progress(INBOX, 1, 1);
  assert.equal(f.logs.length, logged);
  assert.equal(logged, 2);
});

Deno.test("finish({ stopped }) (Ctrl-C) leaves where each mailbox stopped, not an ETA", () => {
  const f = fixture({ live: true, redrawIntervalMs: 0 });
  f.renderer.progress(INBOX, 0, 1000);
  f.advance(1_000);
  f.renderer.progress(INBOX, 400, 1000);
  f.renderer.polled(ARCHIVE, 0.1, "ok");
  f.renderer.finish({ stopped: true });
  const shown = screen(f.writes);
  assert.match(shown[0]!, /^INBOX {4}\[#+-+\] {2}400\/1000 {2}40% {2}400 msg\/s {2}stopped$/);
  assert.equal(shown[1], "Archive  stopped · no new mail since caught up");
});

Deno.test("log lines printed through the shared area stay above the bars", () => {
  const writes: string[] = [];
  const area = createStatusArea((text) => writes.push(text));
  const renderer = createProgressRenderer({
    terminal: true,
    write: () => assert.fail("the renderer draws through the area"),
    area,
    redrawIntervalMs: 0,
  });
  renderer.progress(INBOX, 0, 100);
  area.print("12:00:00.000 INFO  mailbox synced\n");
  renderer.progress(INBOX, 50, 100);
  area.print("12:00:01.000 INFO  producer stopped\n");
  renderer.finish({ stopped: true });
  const shown = screen(writes);
  assert.deepEqual(shown.slice(0, 2), [
    "12:00:00.000 INFO  mailbox synced",
    "12:00:01.000 INFO  producer stopped",
  ]);
  assert.match(shown[2]!, /^INBOX {2}\[.*\] {2}50\/100 .* stopped$/);
  assert.equal(shown.length, 3);
});

Deno.test("off a terminal, a stalled round still logs a heartbeat line every logIntervalMs", () => {
  const f = fixture({ terminal: false, logIntervalMs: 10_000, withLog: true });
  f.renderer.progress(INBOX, 0, 1000);
  f.advance(2_000);
  f.renderer.progress(INBOX, 100, 1000);
  // Then nothing moves (a stalled connection): ticks keep the log alive.
  for (let i = 0; i < 6; i++) {
    f.advance(5_000);
    f.renderer.tick();
  }
  assert.deepEqual(f.logs.map((l) => l.fields.done), [0, 100, 100, 100]);
  assert.equal(
    f.logs[1]!.message,
    "backfill INBOX: 100/1000 (10%), 50.0 msg/s, ETA 18s, no progress for 10s",
  );
  assert.equal(f.logs[3]!.fields.stalled_seconds, 30);
  f.renderer.progress(INBOX, 1000, 1000);
  f.advance(30_000);
  f.renderer.tick();
  assert.equal(f.logs.length, 5, "a finished round logs no heartbeat");
  f.renderer.finish();
});

Deno.test("a history backfill lane has its own bar above the live line, then shows as backfilled", () => {
  const f = fixture({ live: true, redrawIntervalMs: 0 });
  f.renderer.polled(INBOX, 0.1, "ok"); // the live path caught up at the UIDNEXT snapshot at once
  f.renderer.backfillProgress(INBOX, 0, 5000);
  f.advance(1_000);
  f.renderer.backfillProgress(INBOX, 1000, 5000);
  f.renderer.progress(INBOX, 0, 1);
  f.renderer.progress(INBOX, 1, 1);
  const during = screen(f.writes);
  assert.equal(during.length, 2);
  assert.match(during[0]!, /^INBOX {2}\[#+-+\] {2}1000\/5000 {2}20%/);
  assert.match(during[1]!, /^INBOX {2}live · 1 new since caught up/);
  f.advance(4_000);
  f.renderer.backfillProgress(INBOX, 5000, 5000);
  const after = screen(f.writes);
  assert.equal(after.length, 1);
  assert.match(after[0]!, /live · 1 new since caught up, last .* · backfilled 5000 in 5s$/);
});

Deno.test("off a terminal, a history backfill logs its own lines", () => {
  const f = fixture({ terminal: false, live: true, withLog: true });
  f.renderer.backfillProgress(INBOX, 0, 400);
  f.advance(2_000);
  f.renderer.backfillProgress(INBOX, 400, 400);
  assert.deepEqual(f.logs.map((l) => l.fields.done), [0, 400]);
  assert.match(f.logs[1]!.message, /^backfill INBOX: 400\/400 \(100%\)/);
});

Deno.test("a backfill that ends without reaching its total logs no more heartbeats", () => {
  for (const outcome of ["done", "dropped"] as const) {
    const f = fixture({ terminal: false, live: true, withLog: true, logIntervalMs: 10_000 });
    f.renderer.backfillProgress(INBOX, 0, 4000);
    f.advance(1_000);
    f.renderer.backfillProgress(INBOX, 750, 4000);
    // The rest was expunged (done) or the mailbox was recreated (dropped).
    f.renderer.backfillEnded(INBOX, outcome);
    const logged = f.logs.length;
    for (let i = 0; i < 6; i++) {
      f.advance(5_000);
      f.renderer.tick();
    }
    assert.equal(f.logs.length, logged, `after ${outcome}, no "no progress" line`);
    f.renderer.finish();
  }
});

Deno.test("on a terminal, an ended backfill leaves its bar; only a done one says backfilled", () => {
  for (const outcome of ["done", "dropped"] as const) {
    const f = fixture({ live: true, redrawIntervalMs: 0 });
    f.renderer.polled(INBOX, 0.1, "ok");
    f.renderer.backfillProgress(INBOX, 750, 4000);
    f.renderer.backfillEnded(INBOX, outcome);
    const lines = screen(f.writes);
    assert.equal(lines.length, 1);
    assert.equal(/backfilled 4000/.test(lines[0]!), outcome === "done", lines[0]);
  }
});
