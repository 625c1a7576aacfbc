import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { execIngest } from "./harness/cli.ts";
import { startRedis } from "./harness/redis_server.ts";
import { addEmails, freshStream, workerEnv } from "./worker_fixtures.ts";

const SECRETS = {
  IMAP_PASSWORD: "imap-secret-1",
  WEBHOOK_SECRET: "webhook-secret-2",
  INGEST_TOKEN_KEY: btoa(String.fromCharCode(...new Uint8Array(32).fill(7))),
  GOOGLE_CLIENT_SECRET: "google-secret-3",
  REDIS_PASSWORD: "redis-secret-4",
};

Deno.test("the exec sink's child sees none of the worker's secrets, only the allow-list and EXEC_SINK_ENV", async () => {
  await using redis = await startRedis({ args: ["--requirepass", SECRETS.REDIS_PASSWORD] });
  const url = `redis://:${SECRETS.REDIS_PASSWORD}@127.0.0.1:${redis.port}`;
  const client = new Redis(url);
  const dir = await Deno.makeTempDir({ prefix: "ingest-exec-env-" });
  try {
    const stream = freshStream("exec-env");
    await addEmails(client, stream, [1]);
    // A real `ingest work` process whose own environment holds every secret.
    const result = await execIngest(
      ["work", "--drain", "--sink", `exec:env > "${dir}/env-$INGEST_ATTEMPT.txt"`],
      {
        env: {
          ...workerEnv(url, stream),
          ...SECRETS,
          LC_ALL: "C.UTF-8",
          CLASSIFIER_URL: "http://127.0.0.1:9/classify",
          UNNAMED_SETTING: "stays-behind",
          EXEC_SINK_ENV: "CLASSIFIER_URL",
        },
      },
    );
    assert.equal(result.code, 0, result.stderr);
    const text = await Deno.readTextFile(`${dir}/env-1.txt`);
    const env = new Map(
      text.split("\n").filter((l) => l.includes("=")).map((l) => {
        const at = l.indexOf("=");
        return [l.slice(0, at), l.slice(at + 1)] as const;
      }),
    );
    for (const [name, value] of Object.entries(SECRETS)) {
      assert.equal(env.has(name), false, `${name} reached the child`);
      assert.equal(text.includes(value), false, `the value of ${name} reached the child`);
    }
    assert.equal(env.has("REDIS_URL"), false);
    assert.equal(env.has("UNNAMED_SETTING"), false);
    assert.equal(env.get("CLASSIFIER_URL"), "http://127.0.0.1:9/classify");
    assert.equal(env.get("LC_ALL"), "C.UTF-8");
    assert.equal(env.get("PATH"), Deno.env.get("PATH"));
    assert.equal(env.get("INGEST_ATTEMPT"), "1");
    assert.match(env.get("INGEST_IDEMPOTENCY_KEY") ?? "", /:1$/);
    assert.ok(env.get("INGEST_ENTRY_ID"));
    assert.equal(env.get("INGEST_ENTRY_TYPE"), "email");
  } finally {
    client.disconnect();
    await Deno.remove(dir, { recursive: true });
  }
});
