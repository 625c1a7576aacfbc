import assert from "node:assert/strict";
import { parseDeadLetter } from "../src/dlq/dead_letter.ts";
import { processedSetKey } from "../src/redis/keys.ts";
import { runIngest, spawnIngest } from "./harness/cli.ts";
import { startRedis } from "./harness/redis_server.ts";
import {
  addEmails,
  client,
  freshStream,
  readJsonLines,
  waitUntil,
  workerEnv,
} from "./worker_fixtures.ts";

/**
 * A handler module whose behaviour for uid 1 is chosen by HANDLER_MODE in the
 * worker process's environment: `block` (never returns), `slow` (1.5 s),
 * `crash` (kills its own process with SIGKILL); otherwise it writes at once.
 * It marks `started-<uid>` when a call begins and appends `{uid, attempt}` to
 * out.jsonl when it ends.
 */
function handlerSource(dir: string): string {
  return `
const dir = ${JSON.stringify(dir)};
export async function handle(email: { uid: number }, context: { attempt: number }) {
  await Deno.writeTextFile(dir + "/started-" + email.uid, String(Deno.pid));
  const mode = email.uid === 1 ? Deno.env.get("HANDLER_MODE") : undefined;
  if (mode === "crash") Deno.kill(Deno.pid, "SIGKILL");
  if (mode === "block") await new Promise(() => setInterval(() => {}, 1000));
  if (mode === "slow") await new Promise((resolve) => setTimeout(resolve, 1500));
  await Deno.writeTextFile(dir + "/out.jsonl",
    JSON.stringify({ uid: email.uid, attempt: context.attempt, pid: Deno.pid }) + "\\n",
    { append: true });
}
`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("worker processes: SIGKILL, poison messages and graceful shutdown", async (t) => {
  await using server = await startRedis();
  const redis = await client(server.url);
  const dir = await Deno.makeTempDir({ prefix: "ingest-worker-proc-" });
  const handler = `${dir}/handler.ts`;
  await Deno.writeTextFile(handler, handlerSource(dir));
  const sink = `module:${handler}`;
  const reset = async () => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name !== "handler.ts") await Deno.remove(`${dir}/${entry.name}`);
    }
  };
  const pending = async (stream: string) =>
    Number((await redis.xpending(stream, "email_workers") as [number])[0]);
  try {
    await t.step(
      "an entry of a worker killed mid-handler is reclaimed and processed by another",
      async () => {
        await reset();
        const stream = freshStream("sigkill");
        await addEmails(redis, stream, [1]);
        const env = workerEnv(server.url, stream);
        const doomed = spawnIngest(
          ["work", "--sink", sink, "--consumer", "doomed", "--visibility-timeout", "30"],
          { env: { ...env, HANDLER_MODE: "block" } },
        );
        await waitUntil("the handler started", () => exists(`${dir}/started-1`));
        doomed.kill("SIGKILL");
        const status = await doomed.status;
        await doomed.stdout.cancel();
        await doomed.stderr.cancel();
        assert.equal(status.signal, "SIGKILL");
        assert.equal(await pending(stream), 1, "the entry is pending on the dead consumer");

        const rescue = await runIngest(
          [
            "work",
            "--drain",
            "--sink",
            sink,
            "--consumer",
            "rescuer",
            "--visibility-timeout",
            "0.5",
          ],
          { env: { ...env, LOG_LEVEL: "info" } },
        );
        assert.equal(rescue.code, 0, rescue.stderr);
        const lines = await readJsonLines(`${dir}/out.jsonl`);
        assert.deepEqual(lines.map((l) => [l.uid, l.pid]), [[1, Deno.pid]]);
        assert.match(rescue.stderr, /reclaimed stalled entries/);
        assert.equal(await pending(stream), 0);
      },
    );

    await t.step("a message that kills every worker ends in the DLQ as poison", async () => {
      await reset();
      const stream = freshStream("poison");
      await addEmails(redis, stream, [1, 2]);
      const env = {
        ...workerEnv(server.url, stream, { WORKER_MAX_ATTEMPTS: "2" }),
        HANDLER_MODE: "crash",
      };
      const args = [
        "work",
        "--drain",
        "--sink",
        sink,
        "--concurrency",
        "1",
        "--visibility-timeout",
        "0.3",
      ];
      const codes: (number | null)[] = [];
      for (let run = 0; run < 3; run++) {
        const child = spawnIngest(args, { env });
        const status = await child.output();
        codes.push(status.signal === "SIGKILL" ? null : status.code);
      }
      // Deliveries 1 and 2 crash the worker; delivery 3 exceeds the maximum of 2 and
      // dead-letters it, so that drain exits 3.
      assert.deepEqual(codes, [null, null, 3]);
      const dlq = await redis.xrange(`${stream}:dlq`, "-", "+") as [string, string[]][];
      assert.equal(dlq.length, 1);
      const letter = parseDeadLetter(dlq[0]![0], dlq[0]![1]);
      assert.equal(letter.reason, "poison");
      assert.match(letter.error, /delivered 3 times/);
      const lines = await readJsonLines(`${dir}/out.jsonl`);
      assert.deepEqual(lines.map((l) => l.uid), [2], "the worker carries on with the rest");
      assert.equal(await pending(stream), 0);
    });

    await t.step(
      "SIGTERM lets the in-flight handler finish, acknowledges it and exits 0",
      async () => {
        await reset();
        const stream = freshStream("sigterm");
        await addEmails(redis, stream, [1]);
        const env = {
          ...workerEnv(server.url, stream, { LOG_LEVEL: "info" }),
          HANDLER_MODE: "slow",
        };
        const worker = spawnIngest(["work", "--sink", sink, "--shutdown-timeout", "20"], { env });
        await waitUntil("the handler started", () => exists(`${dir}/started-1`));
        worker.kill("SIGTERM");
        const output = await worker.output();
        const stderr = new TextDecoder().decode(output.stderr);
        assert.equal(output.code, 0, stderr);
        assert.deepEqual((await readJsonLines(`${dir}/out.jsonl`)).map((l) => l.uid), [1]);
        assert.equal(await pending(stream), 0);
        assert.notEqual(
          await redis.zscore(
            processedSetKey(stream, "email_workers"),
            "worker@example.test:INBOX:7:1",
          ),
          null,
          "the processed-record was written",
        );
        assert.match(stderr, /"stoppedBy":"signal"/);
        assert.match(stderr, /"abandoned":0/);
      },
    );

    await t.step(
      "a handler still running at the shutdown timeout is left pending for others",
      async () => {
        await reset();
        const stream = freshStream("timeout");
        await addEmails(redis, stream, [1]);
        const env = {
          ...workerEnv(server.url, stream, { LOG_LEVEL: "info" }),
          HANDLER_MODE: "block",
        };
        const worker = spawnIngest(["work", "--sink", sink, "--shutdown-timeout", "0.3"], { env });
        await waitUntil("the handler started", () => exists(`${dir}/started-1`));
        worker.kill("SIGTERM");
        const output = await worker.output();
        const stderr = new TextDecoder().decode(output.stderr);
        assert.equal(output.code, 0, stderr);
        assert.match(stderr, /"abandoned":1/);
        assert.equal(await pending(stream), 1, "not acknowledged: another worker will reclaim it");
        assert.deepEqual(await readJsonLines(`${dir}/out.jsonl`), []);
      },
    );
  } finally {
    redis.disconnect();
    await Deno.remove(dir, { recursive: true });
  }
});
