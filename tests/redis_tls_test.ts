import assert from "node:assert/strict";
import { loadConfig } from "../src/config/config.ts";
import { silentLogger } from "../src/log/logger.ts";
import { closeRedis, connectRedis } from "../src/redis/connection.ts";
import { runIngest } from "./harness/cli.ts";
import { freePort, waitForPort } from "./harness/ports.ts";
import { startRedis } from "./harness/redis_server.ts";
import { makeCertificates } from "./harness/tls_certificates.ts";

Deno.test("rediss:// to 127.0.0.1 and localhost works with a private CA from REDIS_TLS_CA", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ingest-redis-tls-" });
  try {
    await makeCertificates(dir);
    const tlsPort = freePort();
    await using _redis = await startRedis({
      args: [
        "--tls-port",
        String(tlsPort),
        "--tls-cert-file",
        `${dir}/server.pem`,
        "--tls-key-file",
        `${dir}/server.key`,
        "--tls-ca-cert-file",
        `${dir}/ca.pem`,
        "--tls-auth-clients",
        "no",
      ],
    });
    await waitForPort(tlsPort);
    for (const host of ["127.0.0.1", "localhost"]) {
      const config = loadConfig({
        env: { REDIS_URL: `rediss://${host}:${tlsPort}`, REDIS_TLS_CA: `${dir}/ca.pem` },
      });
      const client = await connectRedis(config.redis, { name: "tls-test", logger: silentLogger });
      try {
        assert.equal(await client.ping(), "PONG", host);
        const info = await client.info("server");
        assert.match(info, /redis_version:7/);
      } finally {
        await closeRedis(client);
      }
    }
    const env = { REDIS_URL: `rediss://127.0.0.1:${tlsPort}`, REDIS_TLS_CA: `${dir}/ca.pem` };
    const inspect = await runIngest(["stream", "inspect", "--json"], { env });
    assert.equal(inspect.code, 0, inspect.stderr);

    // Without the CA the private certificate is refused: REDIS_TLS_CA is what makes it work.
    const untrusted = await runIngest(["stream", "inspect", "--json"], {
      env: { REDIS_URL: env.REDIS_URL },
    });
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /REDIS_UNREACHABLE/);
    assert.doesNotMatch(untrusted.stderr, /servername must not be an IP address/);

    const missing = await runIngest(["stream", "inspect"], {
      env: { ...env, REDIS_TLS_CA: `${dir}/nope.pem` },
    });
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /REDIS_TLS_CA: cannot read the CA file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
