import assert from "node:assert/strict";
import * as ingest from "../mod.ts";
import { startRedis } from "./harness/redis_server.ts";

const root = new URL("../", import.meta.url);

Deno.test("deno doc --lint mod.ts reports no problems", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", "mod.ts"],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, text);
  assert.doesNotMatch(text, /error\[|documentation lint errors?/);
});

Deno.test("mod.ts exports the library's API, not ioredis' or prom-client's classes", () => {
  const names = Object.keys(ingest);
  for (
    const needed of ["startProducer", "runWorker", "openSink", "replayDeadLetters", "readCursor"]
  ) {
    assert.ok(names.includes(needed), needed);
  }
  for (const needed of ["PermanentError", "IngestError", "ERROR_CODES", "loadConfig"]) {
    assert.ok(names.includes(needed), needed);
  }
  for (const internal of ["Redis", "Registry", "backoffDelay", "cursorKey", "buildEmailPayload"]) {
    assert.ok(!names.includes(internal), `${internal} is internal`);
  }
});

Deno.test("a RedisConnection from connectRedis() drives the state, stream and DLQ functions", async () => {
  await using redis = await startRedis();
  const config = ingest.loadConfig({ env: { REDIS_URL: redis.url } });
  const connection = await ingest.connectRedis(config.redis, {
    name: "ingest:api-test",
    logger: ingest.createLogger({ write: () => {} }),
  });
  try {
    assert.equal(connection.name, "ingest:api-test");
    assert.match(await redis.cli("CLIENT", "LIST"), /name=ingest:api-test/);
    const stream = `api-test-${crypto.randomUUID()}`;
    await redis.cli("XADD", stream, "*", "type", "email");
    const report = await ingest.inspectStream(connection, { stream, dlqStream: `${stream}:dlq` });
    assert.equal(report.length, 1);
    assert.deepEqual(await ingest.listCursors(connection), []);
    const ref = { account: "a@example.test", mailbox: "INBOX" };
    assert.equal(await ingest.readCursor(connection, ref), null);
    const streams = { stream, dlqStream: `${stream}:dlq` };
    assert.equal((await ingest.listDeadLetters(connection, streams, 10)).total, 0);
    assert.deepEqual(await ingest.allDeadLetterIds(connection, streams), []);
  } finally {
    await ingest.closeRedis(connection);
  }
  await assert.rejects(
    async () => await ingest.inspectStream({ name: "forged" }, { stream: "s", dlqStream: "s:dlq" }),
    ingest.InvalidArgumentError,
  );
});
