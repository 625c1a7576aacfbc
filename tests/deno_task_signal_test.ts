import assert from "node:assert/strict";
import { leaseKey } from "../src/redis/keys.ts";
import { type DenoTask, spawnDenoTask } from "./harness/deno_task.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";
import { addEmails, client, freshStream, waitUntil, workerEnv } from "./worker_fixtures.ts";

// The README runs the CLI as `deno task ingest …`. On Unix, `deno task`
// forwards the signals it receives to its child, and a terminal's Ctrl-C
// reaches both: the program gets SIGINT twice within a millisecond. These
// tests run the README's commands exactly that way.

const WAYS: { name: string; send: (task: DenoTask) => void }[] = [
  { name: "Ctrl-C (SIGINT to the process group)", send: (t) => t.signalGroup("SIGINT") },
  { name: "kill -INT <task pid>", send: (t) => t.signalTask("SIGINT") },
];

Deno.test("deno task ingest produce: SIGINT releases the lease and exits 0", async (t) => {
  await using dovecot = await startDovecot();
  await using server = await startRedis();
  const redis = await client(server.url);
  try {
    for (const [index, way] of WAYS.entries()) {
      await t.step(way.name, async () => {
        const mailbox = `Sig${index}`;
        await dovecot.createMailbox(TEST_USER, mailbox);
        for (let i = 0; i < 3; i++) {
          await dovecot.append(TEST_USER, mailbox, await realisticMessage(i));
        }
        const stream = freshStream("task-produce");
        const task = spawnDenoTask(["ingest", "produce", "--mailbox", mailbox], {
          env: {
            ...pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream }),
            LOG_FORMAT: "json",
            HEALTH_PORT: "0",
          },
        });
        const lease = leaseKey({ account: TEST_USER, mailbox });
        await waitUntil("the initial sync", async () => (await redis.xlen(stream)) === 3, 30_000);
        await waitUntil("the lease", async () => (await redis.exists(lease)) === 1);
        way.send(task);
        const result = await task.output();
        assert.equal(result.code, 0, result.stderr);
        assert.equal(await redis.exists(lease), 0, "the lease is released");
      });
    }
  } finally {
    redis.disconnect();
  }
});

Deno.test("deno task ingest work: SIGINT finishes the entries in hand, none left pending", async (t) => {
  await using server = await startRedis();
  const redis = await client(server.url);
  const root = await Deno.makeTempDir({ prefix: "ingest-task-signal-" });
  try {
    for (const [index, way] of WAYS.entries()) {
      await t.step(way.name, async () => {
        const dir = `${root}/${index}`;
        await Deno.mkdir(dir);
        const handler = `${dir}/handler.ts`;
        // Each call takes 600 ms, so entries are in hand when the signal arrives.
        await Deno.writeTextFile(
          handler,
          `export async function handle(email: { uid: number }) {
  await Deno.writeTextFile(${JSON.stringify(dir)} + "/started-" + email.uid, "");
  await new Promise((resolve) => setTimeout(resolve, 600));
}\n`,
        );
        const stream = freshStream("task-work");
        await addEmails(redis, stream, [1, 2, 3, 4, 5, 6]);
        const task = spawnDenoTask(
          ["ingest", "work", "--sink", `module:${handler}`, "--concurrency", "2"],
          { env: { ...workerEnv(server.url, stream), LOG_FORMAT: "json" } },
        );
        await waitUntil("a handler started", async () => {
          for await (const entry of Deno.readDir(dir)) {
            if (entry.name.startsWith("started-")) return true;
          }
          return false;
        }, 30_000);
        way.send(task);
        const result = await task.output();
        assert.equal(result.code, 0, result.stderr);
        const [pending] = await redis.xpending(stream, "email_workers") as [number];
        assert.equal(pending, 0, "nothing stays pending on the stopped consumer");
      });
    }
  } finally {
    redis.disconnect();
    await Deno.remove(root, { recursive: true });
  }
});
