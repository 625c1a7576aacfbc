import assert from "node:assert/strict";
import { runCli } from "../cli/main.ts";
import type { Runtime } from "../cli/runtime.ts";
import { screen } from "../src/progress/_terminal_screen.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";
import { client, freshStream, waitUntil } from "./worker_fixtures.ts";

// `ingest produce` on a terminal: bars and log lines share stderr. What the
// terminal shows at the end must still hold every log line, and a live run
// shows a live line, not a `1/1 100%` bar per new message.

Deno.test("ingest produce on a terminal: logs survive the bars, live mail shows on a live line", async () => {
  await using dovecot = await startDovecot();
  await using server = await startRedis();
  const redis = await client(server.url);
  for (let i = 0; i < 120; i++) {
    await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i));
  }
  const stream = freshStream("progress");
  const writes: string[] = [];
  const stop = new AbortController();
  const runtime: Runtime = {
    env: {
      ...pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream }),
      LOG_FORMAT: "pretty",
      HEALTH_PORT: "0",
    },
    stdout: () => {},
    stderr: (text) => writes.push(text),
    readLine: () => Promise.resolve(null),
    interactive: false,
    stderrIsTerminal: true,
    signal: stop.signal,
  };
  try {
    const run = runCli(["--no-env-file", "produce"], runtime);
    await waitUntil("the backfill", async () => (await redis.xlen(stream)) === 120, 30_000);
    await waitUntil("the live line", () => screen(writes).some((l) => l.includes(" live · ")));
    for (let i = 120; i < 122; i++) {
      await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i));
      await waitUntil("the new message", async () => (await redis.xlen(stream)) === i + 1);
    }
    await waitUntil("the live count", () => screen(writes).some((l) => l.includes("2 new since")));
    stop.abort(new DOMException("received SIGINT", "AbortError"));
    assert.equal(await run, 0);
  } finally {
    redis.disconnect();
  }
  const shown = screen(writes);
  const stoppedLine = shown.findIndex((line) => line.includes("producer stopped"));
  assert.ok(stoppedLine >= 0, `"producer stopped" is still on screen:\n${shown.join("\n")}`);
  assert.match(
    shown.at(-1)!,
    /^INBOX {2}stopped · 2 new since caught up, last \d\d:\d\d:\d\d · backfilled 120 in /,
  );
  assert.ok(stoppedLine < shown.length - 1, "the log line is above the status line");
  assert.ok(!writes.join("").includes("1/1 "), "no per-message `1/1 100%` bar");
});
