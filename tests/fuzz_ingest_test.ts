/**
 * Damaged messages end to end: mutated realistic messages are appended to a
 * real Dovecot and ingested by `ingest produce --once`. Every message the
 * server accepted must be published (none lost, none blocking the cursor),
 * each exactly once, with a readable payload.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { runIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { mutate, random } from "./harness/fuzz.ts";
import { realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";

const SEED = 424242;
const MESSAGES = 24;

Deno.test(`ingest produce publishes every damaged message exactly once (seed ${SEED})`, async () => {
  await using dovecot = await startDovecot();
  await using server = await startRedis();
  const rng = random(SEED);
  let accepted = 0;
  for (let index = 0; index < MESSAGES; index++) {
    const damaged = mutate(rng, await realisticMessage(index));
    // The server may refuse some bytes (e.g. NUL); those never reach a producer.
    const appended = await dovecot.append(TEST_USER, "INBOX", damaged).then(
      () => true,
      () => false,
    );
    if (appended) accepted++;
  }
  assert.ok(accepted >= MESSAGES / 2, `only ${accepted} of ${MESSAGES} appends were accepted`);

  const stream = `fuzz-${crypto.randomUUID().slice(0, 8)}`;
  const env = pipelineEnv({ imapPort: dovecot.port, redisUrl: server.url, stream });
  const result = await runIngest(["produce", "--once", "--batch-size", "5"], { env });
  assert.equal(result.code, 0, result.stderr);

  const redis = new Redis(server.port, "127.0.0.1");
  try {
    const entries = await redis.xrange(stream, "-", "+");
    const emails = entries.filter(([, fields]) => fields[1] === "email");
    const keys = new Set(emails.map(([, fields]) => fields[3]));
    assert.equal(emails.length, accepted, "every accepted message is published");
    assert.equal(keys.size, accepted, "no message is published twice");
    let parseErrors = 0;
    for (const [, fields] of emails) {
      const payload = JSON.parse(fields[5]!) as { uid: number; parse_error?: string };
      assert.equal(typeof payload.uid, "number");
      if (payload.parse_error !== undefined) parseErrors++;
    }
    const lastUid = await redis.get(`producer_state:${TEST_USER}:INBOX:last_uid`);
    assert.equal(Number(lastUid), accepted, "the cursor reaches the last message");
    console.log(
      `fuzz e2e: ${accepted}/${MESSAGES} appended, all published, ${parseErrors} with parse_error`,
    );
  } finally {
    redis.disconnect();
  }
});
