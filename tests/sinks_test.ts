import assert from "node:assert/strict";
import { parseDeadLetter } from "../src/dlq/dead_letter.ts";
import { PermanentError, RetryableError, UsageError } from "../src/errors.ts";
import { parseSinkSpec } from "../src/sinks/spec.ts";
import type { Delivery } from "../src/sinks/sink.ts";
import { createWebhookSink } from "../src/sinks/webhook_sink.ts";
import { VERSION } from "../src/version.ts";
import { mailboxResetEntryFields } from "../src/stream/entry.ts";
import { runIngest } from "./harness/cli.ts";
import { startRedis } from "./harness/redis_server.ts";
import {
  addEmails,
  client,
  emailPayload,
  freshStream,
  range,
  readJsonLines,
  workerEnv,
} from "./worker_fixtures.ts";

const MOD_URL = new URL("../mod.ts", import.meta.url).href;

Deno.test("parseSinkSpec() accepts the five sink forms", () => {
  assert.deepEqual(parseSinkSpec("stdout"), { kind: "stdout" });
  assert.deepEqual(parseSinkSpec("file:/tmp/out.jsonl"), { kind: "file", path: "/tmp/out.jsonl" });
  assert.deepEqual(parseSinkSpec("webhook:https://h.example/x?a=1"), {
    kind: "webhook",
    url: "https://h.example/x?a=1",
  });
  assert.deepEqual(parseSinkSpec("exec:jq -c . | wc -l"), {
    kind: "exec",
    command: "jq -c . | wc -l",
  });
  assert.deepEqual(parseSinkSpec("module:./handler.ts"), {
    kind: "module",
    path: "./handler.ts",
  });
});

Deno.test("parseSinkSpec() rejects unknown kinds and missing parts with a UsageError", () => {
  for (const bad of ["", "kafka:x", "file:", "exec:  ", "webhook:ftp://x", "webhook:nope"]) {
    assert.throws(() => parseSinkSpec(bad), UsageError, bad);
  }
  assert.throws(() => parseSinkSpec("kafka:x"), /stdout, file:PATH, webhook:URL/);
});

function delivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    id: "1-0",
    type: "email",
    idempotencyKey: "a:INBOX:7:1",
    payload: emailPayload(1),
    attempt: 1,
    signal: new AbortController().signal,
    ...overrides,
  };
}

Deno.test("the webhook sink sends User-Agent: ingest/<version> to a loopback receiver", async () => {
  const agents: (string | null)[] = [];
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    agents.push(request.headers.get("user-agent"));
    return new Response(null, { status: 204 });
  });
  try {
    const sink = createWebhookSink({
      url: `http://127.0.0.1:${receiver.addr.port}/hook`,
      secret: undefined,
    });
    await sink.handle(delivery());
    await sink.handle(delivery({ attempt: 2 }));
  } finally {
    await receiver.shutdown();
  }
  assert.match(VERSION, /^\d+\.\d+\.\d+/);
  assert.deepEqual(agents, [`ingest/${VERSION}`, `ingest/${VERSION}`]);
});

Deno.test("the webhook sink retries a timeout and a refused connection", async () => {
  const slow = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    await new Promise((r) => setTimeout(r, 300));
    return new Response("late");
  });
  try {
    const sink = createWebhookSink({
      url: `http://127.0.0.1:${slow.addr.port}/hook`,
      secret: undefined,
      timeoutMs: 50,
    });
    await assert.rejects(sink.handle(delivery()), (error: unknown) => {
      assert.ok(error instanceof RetryableError);
      assert.match(error.message, /no response within 50 ms/);
      return true;
    });
  } finally {
    await slow.shutdown();
  }
  const closed = createWebhookSink({ url: `http://127.0.0.1:${slow.addr.port}/`, secret: "s" });
  await assert.rejects(closed.handle(delivery()), RetryableError);
});

Deno.test("every sink delivers through `ingest work` against a real Redis", async (t) => {
  await using server = await startRedis();
  const redis = await client(server.url);
  const dir = await Deno.makeTempDir({ prefix: "ingest-sinks-" });
  try {
    await t.step(
      "file: appends one JSON document per entry, control entries included",
      async () => {
        const stream = freshStream("file");
        const ids = await addEmails(redis, stream, range(5));
        await redis.xadd(
          stream,
          "*",
          ...mailboxResetEntryFields({
            schema_version: 1,
            account: "worker@example.test",
            mailbox: "INBOX",
            previous_uidvalidity: 7,
            uidvalidity: 8,
            at: "2026-01-02T00:00:00.000Z",
          }),
        );
        const out = `${dir}/file.jsonl`;
        const env = workerEnv(server.url, stream);
        const run = await runIngest(["work", "--drain", "--sink", `file:${out}`], { env });
        assert.equal(run.code, 0, run.stderr);
        const lines = await readJsonLines(out);
        assert.equal(lines.length, 6);
        assert.deepEqual(lines.slice(0, 5).map((l) => l.id), ids);
        assert.deepEqual(Object.keys(lines[0]!), [
          "id",
          "type",
          "idempotency_key",
          "attempt",
          "payload",
        ]);
        assert.equal(lines[0]!.idempotency_key, "worker@example.test:INBOX:7:1");
        assert.deepEqual(lines[0]!.payload, emailPayload(1));
        assert.equal(lines[5]!.type, "mailbox_reset");
        const again = await runIngest(["work", "--drain", "--sink", `file:${out}`], { env });
        assert.equal(again.code, 0, again.stderr);
        assert.equal((await readJsonLines(out)).length, 6, "a second drain writes nothing");
      },
    );

    await t.step("stdout: one JSON document per line on standard output", async () => {
      const stream = freshStream("stdout");
      await addEmails(redis, stream, range(3));
      const run = await runIngest(["work", "--drain", "--sink", "stdout"], {
        env: workerEnv(server.url, stream),
      });
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.trim().split("\n").map((line) => JSON.parse(line));
      assert.deepEqual(lines.map((l) => l.payload.uid).sort(), [1, 2, 3]);
    });

    await t.step(
      "webhook: signed POSTs; 2xx acks, 503/429 retry, other 4xx dead-letter",
      async () => {
        const stream = freshStream("webhook");
        await addEmails(redis, stream, range(5));
        const secret = "test-webhook-secret";
        const received: { uid: number; attempt: string; key: string; valid: boolean }[] = [];
        const seen = new Set<number>();
        const receiver = Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen() {} },
          async (request) => {
            const body = await request.text();
            const document = JSON.parse(body);
            const uid = document.payload.uid as number;
            received.push({
              uid,
              attempt: request.headers.get("x-ingest-attempt")!,
              key: request.headers.get("idempotency-key")!,
              valid: await verifySignature(
                secret,
                body,
                request.headers.get("x-ingest-signature") ?? "",
              ),
            });
            const first = !seen.has(uid);
            seen.add(uid);
            if (uid === 2 && first) return new Response("busy", { status: 503 });
            if (uid === 4 && first) return new Response("slow down", { status: 429 });
            if (uid === 3) return new Response("bad", { status: 422 });
            return new Response(null, { status: 204 });
          },
        );
        try {
          const run = await runIngest(
            ["work", "--drain", "--sink", `webhook:http://127.0.0.1:${receiver.addr.port}/hook`],
            { env: workerEnv(server.url, stream, { WEBHOOK_SECRET: secret }) },
          );
          assert.equal(run.code, 3, `the 422 was dead-lettered: exit 3\n${run.stderr}`);
        } finally {
          await receiver.shutdown();
        }
        assert.ok(received.every((r) => r.valid), "every request carries a valid signature");
        assert.ok(received.every((r) => r.key === `worker@example.test:INBOX:7:${r.uid}`));
        const calls = (uid: number) => received.filter((r) => r.uid === uid).map((r) => r.attempt);
        assert.deepEqual(calls(1), ["1"]);
        assert.deepEqual(calls(2), ["1", "2"]);
        assert.deepEqual(calls(3), ["1"], "422 is permanent: no retry");
        assert.deepEqual(calls(4), ["1", "2"]);
        const dlq = await redis.xrange(`${stream}:dlq`, "-", "+") as [string, string[]][];
        assert.equal(dlq.length, 1);
        const letter = parseDeadLetter(dlq[0]![0], dlq[0]![1]);
        assert.equal(letter.reason, "permanent");
        assert.match(letter.error, /HTTP 422/);
      },
    );

    await t.step(
      "exec: stdin gets the JSON; exit 75 retries; other codes retry until the DLQ",
      async () => {
        const stream = freshStream("exec");
        await addEmails(redis, stream, range(3));
        const out = `${dir}/exec.jsonl`;
        const command = `if [ ! -e "${dir}/seen-$INGEST_ENTRY_ID" ]; then ` +
          `touch "${dir}/seen-$INGEST_ENTRY_ID"; exit 75; fi; cat >> "${out}"`;
        const run = await runIngest(["work", "--drain", "--sink", `exec:${command}`], {
          env: workerEnv(server.url, stream),
        });
        assert.equal(run.code, 0, run.stderr);
        const lines = await readJsonLines(out);
        assert.deepEqual(lines.map((l) => [(l.payload as { uid: number }).uid, l.attempt]).sort(), [
          [1, 2],
          [2, 2],
          [3, 2],
        ]);

        const failing = freshStream("exec-fail");
        await addEmails(redis, failing, [1]);
        const failed = await runIngest(["work", "--drain", "--sink", "exec:exit 3"], {
          env: workerEnv(server.url, failing, { WORKER_MAX_ATTEMPTS: "2" }),
        });
        assert.equal(failed.code, 3, failed.stderr);
        const dlq = await redis.xrange(`${failing}:dlq`, "-", "+") as [string, string[]][];
        assert.equal(dlq.length, 1);
        const letter = parseDeadLetter(dlq[0]![0], dlq[0]![1]);
        assert.equal(letter.reason, "max_attempts");
        assert.equal(letter.attempts, 2);
        assert.match(letter.error, /exit code 3/);
      },
    );

    await t.step(
      "module: handle(email, context); PermanentError dead-letters, others retry",
      async () => {
        const stream = freshStream("module");
        await addEmails(redis, stream, range(3));
        const out = `${dir}/module.jsonl`;
        const handler = `${dir}/handler.ts`;
        await Deno.writeTextFile(
          handler,
          `import { PermanentError } from ${JSON.stringify(MOD_URL)};
export async function handle(email: { uid: number }, context: { attempt: number; idempotencyKey: string }) {
  if (email.uid === 2) throw new PermanentError("uid 2 cannot be routed");
  if (email.uid === 3 && context.attempt === 1) throw new Error("flaky downstream");
  await Deno.writeTextFile(${JSON.stringify(out)}, JSON.stringify({
    uid: email.uid, attempt: context.attempt, key: context.idempotencyKey,
  }) + "\\n", { append: true });
}
`,
        );
        const run = await runIngest(["work", "--drain", "--sink", `module:${handler}`], {
          env: workerEnv(server.url, stream),
        });
        assert.equal(run.code, 3, `one entry was dead-lettered: exit 3\n${run.stderr}`);
        const lines = await readJsonLines(out);
        assert.deepEqual(lines.map((l) => [l.uid, l.attempt]).sort(), [[1, 1], [3, 2]]);
        assert.equal(lines[0]!.key, "worker@example.test:INBOX:7:1");
        const dlq = await redis.xrange(`${stream}:dlq`, "-", "+") as [string, string[]][];
        const letter = parseDeadLetter(dlq[0]![0], dlq[0]![1]);
        assert.equal(letter.reason, "permanent");
        assert.equal(letter.error, "uid 2 cannot be routed");
      },
    );

    await t.step(
      "a bad --sink or a module without handle() is a usage error (exit 2)",
      async () => {
        const stream = freshStream("bad");
        const env = workerEnv(server.url, stream);
        const kafka = await runIngest(["work", "--drain", "--sink", "kafka:x"], { env });
        assert.equal(kafka.code, 2);
        assert.match(kafka.stderr, /--sink must be one of/);
        const empty = `${dir}/empty.ts`;
        await Deno.writeTextFile(empty, "export const nothing = 1;\n");
        const noHandle = await runIngest(["work", "--drain", "--sink", `module:${empty}`], { env });
        assert.equal(noHandle.code, 2);
        assert.match(noHandle.stderr, /must export a function handle/);
        const several = await runIngest([
          "work",
          "--sink",
          "file:",
          "--visibility-timeout",
          "soon",
          "--concurrency",
          "0",
        ], { env });
        assert.equal(several.code, 2);
        for (const flag of ["--sink", "--visibility-timeout", "WORKER_CONCURRENCY"]) {
          assert.match(several.stderr, new RegExp(flag), `names ${flag}`);
        }
      },
    );
  } finally {
    redis.disconnect();
    await Deno.remove(dir, { recursive: true });
  }
});

/** How a receiver verifies X-Ingest-Signature (the example of docs/DELIVERY.md). */
async function verifySignature(secret: string, body: string, header: string): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const hex = header.replace(/^sha256=/, "");
  if (!/^[0-9a-f]{64}$/.test(hex)) return false;
  const signature = new Uint8Array(hex.match(/../g)!.map((byte) => parseInt(byte, 16)));
  return crypto.subtle.verify("HMAC", key, signature, new TextEncoder().encode(body));
}

Deno.test("isPermanentFailure() understands PermanentError from another copy of ingest", async () => {
  const { isPermanentFailure } = await import("../src/sinks/sink.ts");
  assert.equal(isPermanentFailure(new PermanentError("x")), true);
  const foreign = Object.assign(new Error("x"), { name: "PermanentError" });
  assert.equal(isPermanentFailure(foreign), true);
  assert.equal(isPermanentFailure(new RetryableError("x")), false);
  assert.equal(isPermanentFailure(new Error("x")), false);
  assert.equal(isPermanentFailure("PermanentError"), false);
});
