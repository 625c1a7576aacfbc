import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function portOpen(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("scripts/demo.sh --keep leaves its servers up with an env file, and Ctrl-C stops them", async () => {
  // The README's form: scripts/demo.sh execs `deno task demo`, so this pid is the task runner's.
  const demo = new Deno.Command(`${ROOT}scripts/demo.sh`, {
    args: ["--keep"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let out = "";
  let stopped = false;
  try {
    await exploreThenStop();
  } finally {
    // A failed assertion must not leave the demo and its servers running.
    if (!stopped) {
      Deno.kill(demo.pid, "SIGINT");
      await demo.status;
    }
  }

  async function exploreThenStop(): Promise<void> {
    const reader = demo.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const deadline = Date.now() + 90_000;
    while (!out.includes("ready: waiting for Ctrl-C")) {
      assert.ok(Date.now() < deadline, `the demo did not get ready:\n${out}`);
      const { value, done } = await reader.read();
      assert.ok(!done, `the demo ended early:\n${out}`);
      out += value;
    }
    const envFile = out.match(/env file: (\S+)/)?.[1];
    assert.ok(envFile, out);
    const env = await Deno.readTextFile(envFile);
    const redisPort = Number(env.match(/^REDIS_URL=redis:\/\/127\.0\.0\.1:(\d+)$/m)?.[1]);
    const imapPort = Number(env.match(/^IMAP_PORT=(\d+)$/m)?.[1]);
    assert.ok(redisPort > 0 && redisPort !== 6379 && imapPort > 0, env);
    assert.match(out, /Keep exploring/);
    assert.ok(out.includes(`deno task ingest --env-file ${envFile} stream inspect`), out);

    // The printed env file is all `ingest` needs to use the servers.
    const inspect = await runIngest(["--env-file", envFile, "stream", "inspect", "--json"]);
    assert.equal(inspect.code, 0, inspect.stderr);
    // 300 delivered, 1 through IDLE, 1 replayed from the DLQ (a replay appends a new entry).
    assert.equal(JSON.parse(inspect.stdout).length, 302);

    Deno.kill(demo.pid, "SIGINT");
    const rest = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        out += value;
      }
    })();
    const status = await demo.status;
    stopped = true;
    await rest;
    assert.equal(status.code, 0, out);
    assert.equal(await portOpen(redisPort), false, "redis-server stopped");
    assert.equal(await portOpen(imapPort), false, "Dovecot stopped");
    await assert.rejects(Deno.stat(envFile), Deno.errors.NotFound);
  }
});
