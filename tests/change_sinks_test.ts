/**
 * Sinks and `message_updated` / `message_deleted` entries: the webhook names
 * the type in `x-ingest-event-type`, a module's `handleEvent(event, context)`
 * gets them with the `…:uid:modseq` and `…:uid:deleted` idempotency keys, and
 * a module without `handleEvent` has them acknowledged without a call.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import {
  messageDeletedEntryFields,
  type MessageDeletedPayload,
  messageUpdatedEntryFields,
  type MessageUpdatedPayload,
  SCHEMA_VERSION,
} from "../src/stream/entry.ts";
import { runIngest } from "./harness/cli.ts";
import { startRedis } from "./harness/redis_server.ts";
import { workerEnv } from "./worker_fixtures.ts";

const base = {
  schema_version: SCHEMA_VERSION,
  account: "worker@example.test",
  mailbox: "INBOX",
  uid: 4,
  uidvalidity: 7,
  email_key: "worker@example.test:INBOX:7:4",
  detected_at: new Date().toISOString(),
};
const updated: MessageUpdatedPayload = {
  ...base,
  message_id: "<4@example.test>",
  modseq: "41",
  old_flags: [],
  new_flags: ["\\Seen"],
  old_labels: null,
  new_labels: null,
};
const deleted: MessageDeletedPayload = { ...base, modseq: "42", last_flags: ["\\Seen"] };

async function addChanges(redis: Redis, stream: string): Promise<void> {
  await redis.xadd(stream, "*", ...messageUpdatedEntryFields(updated, "scan"));
  await redis.xadd(stream, "*", ...messageDeletedEntryFields(deleted));
}

Deno.test("sinks get change entries", async (t) => {
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1");
  const dir = await Deno.makeTempDir();
  try {
    await t.step("webhook: x-ingest-event-type names the entry type", async () => {
      const stream = `change-webhook-${crypto.randomUUID()}`;
      await addChanges(redis, stream);
      const seen: [string | null, string | null, string][] = [];
      const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (r) => {
        const body = JSON.parse(await r.text());
        seen.push([
          r.headers.get("x-ingest-event-type"),
          r.headers.get("idempotency-key"),
          body.type,
        ]);
        return new Response(null, { status: 204 });
      });
      try {
        const url = `webhook:http://127.0.0.1:${receiver.addr.port}/hook`;
        const run = await runIngest(["work", "--drain", "--sink", url], {
          env: workerEnv(server.url, stream),
        });
        assert.equal(run.code, 0, run.stderr);
      } finally {
        await receiver.shutdown();
      }
      // Sorted: the worker runs sink calls at once, so the two may arrive in either order.
      assert.deepEqual(seen.sort(), [
        ["message_deleted", "worker@example.test:INBOX:7:4:deleted", "message_deleted"],
        ["message_updated", "worker@example.test:INBOX:7:4:41", "message_updated"],
      ]);
    });

    await t.step(
      "module: handleEvent(event, context) gets both; handle() is not called",
      async () => {
        const stream = `change-module-${crypto.randomUUID()}`;
        await addChanges(redis, stream);
        const out = `${dir}/events.jsonl`;
        const handler = `${dir}/handler.ts`;
        await Deno.writeTextFile(
          handler,
          `export function handle() { throw new Error("not an email"); }
export async function handleEvent(event, context) {
  await Deno.writeTextFile(${JSON.stringify(out)},
    JSON.stringify([event.type, event.payload.uid, context.idempotencyKey]) + "\\n", { append: true });
}
`,
        );
        const run = await runIngest(["work", "--drain", "--sink", `module:${handler}`], {
          env: workerEnv(server.url, stream),
        });
        assert.equal(run.code, 0, run.stderr);
        // Sorted: the worker runs sink calls at once, so the two may finish in either order.
        const lines = (await Deno.readTextFile(out)).trim().split("\n").sort().map((l) =>
          JSON.parse(l)
        );
        assert.deepEqual(lines, [
          ["message_deleted", 4, "worker@example.test:INBOX:7:4:deleted"],
          ["message_updated", 4, "worker@example.test:INBOX:7:4:41"],
        ]);
      },
    );

    await t.step(
      "module without handleEvent: change entries are acknowledged, no call",
      async () => {
        const stream = `change-plain-${crypto.randomUUID()}`;
        await addChanges(redis, stream);
        const handler = `${dir}/plain.ts`;
        await Deno.writeTextFile(
          handler,
          `export function handle() { throw new Error("called"); }\n`,
        );
        const run = await runIngest(["work", "--drain", "--sink", `module:${handler}`], {
          env: workerEnv(server.url, stream),
        });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(await redis.xlen(`${stream}:dlq`), 0);
      },
    );
  } finally {
    redis.disconnect();
    await Deno.remove(dir, { recursive: true });
  }
});
