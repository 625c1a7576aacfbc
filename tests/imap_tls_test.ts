/**
 * IMAP over implicit TLS, as `ingest` reaches Gmail on port 993.
 *
 * - `ingest produce`: the same mailbox served by a Dovecot over TLS and by
 *   one over plain IMAP must give the same payloads. The producer frames the
 *   server's bytes itself and keeps literals as views of the chunks the
 *   socket hands over (`src/imap/response_framing.ts`); this is where a TLS
 *   layer that reused its read buffers would show.
 * - A certificate no trusted CA signed: `produce` and `doctor` fail and say
 *   to trust the CA with DENO_CERT, and `doctor` passes once it is.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { entryFields } from "../src/redis/reply.ts";
import { execIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { HTML_HEAVY, profileMailbox } from "./harness/mail_profile.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";

/** The payloads of `stream`, without what differs between two servers and two runs. */
async function payloads(redis: Redis, stream: string): Promise<Record<string, unknown>[]> {
  const rows = await redis.xrange(stream, "-", "+");
  return rows.map(([, fields]) => {
    const payload = JSON.parse(entryFields(fields).payload!);
    delete payload.uidvalidity;
    delete payload.fetched_at;
    delete payload.internal_date;
    return payload;
  });
}

Deno.test("ingest produce --once over TLS publishes what it publishes over plain IMAP", async () => {
  // The same bytes each time it is made.
  const mailbox = () => profileMailbox(120, { ...HTML_HEAVY, largeShare: 0.02 });
  await using plain = await startDovecot();
  await using tls = await startDovecot({ tls: true });
  await plain.seedMaildir(TEST_USER, "INBOX", mailbox());
  await tls.seedMaildir(TEST_USER, "INBOX", mailbox());
  await using server = await startRedis();
  const redis = new Redis(server.port, "127.0.0.1");
  try {
    const produce = async (port: number, extra: Record<string, string>) => {
      const env = {
        ...pipelineEnv({ imapPort: port, redisUrl: server.url, stream: "tls-test" }),
        ...extra,
        LOG_LEVEL: "warn",
      };
      const result = await execIngest(["produce", "--once", "--batch-size", "25"], { env });
      assert.equal(result.code, 0, result.stderr);
      const published = await payloads(redis, "tls-test");
      // The next server has another UIDVALIDITY: start from a clean private Redis, not a reset.
      await redis.flushall();
      return published;
    };
    const overPlain = await produce(plain.port, {});
    assert.equal(overPlain.length, 120);
    // DENO_CERT adds the test CA to the roots the runtime trusts, as an operator's own CA would be.
    const overTls = await produce(tls.port, { IMAP_TLS: "true", DENO_CERT: `${tls.dir}/ca.pem` });
    assert.deepEqual(overTls, overPlain);
  } finally {
    redis.disconnect();
  }
});

Deno.test("ingest produce --once against a certificate no trusted CA signed fails and names DENO_CERT", async () => {
  await using tls = await startDovecot({ tls: true });
  await using server = await startRedis();
  const env = {
    ...pipelineEnv({ imapPort: tls.port, redisUrl: server.url, stream: "untrusted" }),
    IMAP_TLS: "true",
    LOG_LEVEL: "error",
  };
  const result = await execIngest(["produce", "--once"], { env });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /not signed by a CA this machine trusts/);
  assert.match(result.stderr, /DENO_CERT=\/path\/to\/ca\.pem/);
});

Deno.test("ingest doctor reaches a TLS server its CA is trusted for, and names DENO_CERT when it is not", async () => {
  await using tls = await startDovecot({ tls: true });
  await using server = await startRedis();
  const env = {
    ...pipelineEnv({ imapPort: tls.port, redisUrl: server.url }),
    IMAP_TLS: "true",
  };
  const reachable = async (extra: Record<string, string>) => {
    const result = await execIngest(["doctor", "--json"], { env: { ...env, ...extra } });
    const checks = JSON.parse(result.stdout).checks as {
      name: string;
      status: string;
      fix?: string;
    }[];
    return checks.find((check) => check.name === "imap.reachable")!;
  };
  const untrusted = await reachable({});
  assert.equal(untrusted.status, "fail");
  assert.match(untrusted.fix!, /DENO_CERT=\/path\/to\/ca\.pem/);
  assert.equal((await reachable({ DENO_CERT: `${tls.dir}/ca.pem` })).status, "pass");
});
