import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { startRedis } from "./harness/redis_server.ts";

interface CheckJson {
  name: string;
  status: string;
  detail: string;
  fix: string | null;
}

const BASE = { IMAP_USER: "a@example.test", IMAP_HOST: "127.0.0.1", IMAP_PORT: "1" };

function reachable(stdout: string): CheckJson {
  const report = JSON.parse(stdout) as { checks: CheckJson[] };
  return report.checks.find((check) => check.name === "redis.reachable")!;
}

/**
 * A loopback TCP server that speaks something else: it sends `greeting` on
 * connect (as IMAP does; "" for none, as HTTP) and answers every request with `reply`.
 */
function foreignServer(greeting: string, reply: string): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const encoder = new TextEncoder();
  async function serve(conn: Deno.Conn): Promise<void> {
    if (greeting !== "") await conn.write(encoder.encode(greeting));
    const buffer = new Uint8Array(4096);
    while ((await conn.read(buffer)) !== null) await conn.write(encoder.encode(reply));
  }
  (async () => {
    for await (const conn of listener) serve(conn).catch(() => {}).finally(() => conn.close());
  })().catch(() => {});
  return { port: (listener.addr as Deno.NetAddr).port, close: () => listener.close() };
}

Deno.test("a wrong or missing Redis password says so with the fix, at once, for URL and host/port", async () => {
  await using redis = await startRedis({ args: ["--requirepass", "right-password"] });
  const cases: { env: Record<string, string>; cli: RegExp }[] = [
    {
      env: { REDIS_URL: `redis://:wrong-password@127.0.0.1:${redis.port}` },
      cli: /-u "\$REDIS_URL"/,
    },
    { env: { REDIS_URL: `redis://127.0.0.1:${redis.port}` }, cli: /-u "\$REDIS_URL"/ },
    {
      env: {
        REDIS_HOST: "127.0.0.1",
        REDIS_PORT: String(redis.port),
        REDIS_PASSWORD: "wrong-password",
      },
      cli: new RegExp(
        `REDISCLI_AUTH="\\$REDIS_PASSWORD" redis-cli -h 127\\.0\\.0\\.1 -p ${redis.port} PING`,
      ),
    },
  ];
  for (const { env, cli } of cases) {
    const started = Date.now();
    const inspect = await runIngest(["stream", "inspect"], { env: { ...BASE, ...env } });
    assert.equal(inspect.code, 1, inspect.stderr);
    assert.match(inspect.stderr, /\[REDIS_AUTH\].*wrong Redis password \(or ACL user\)/);
    assert.match(inspect.stderr, cli);
    assert.doesNotMatch(inspect.stderr, /unreachable|Cannot reach|wrong-password/);
    assert.ok(Date.now() - started < 4_000, "no waiting for the connect timeout");
    const doctor = await runIngest(["doctor", "--json"], { env: { ...BASE, ...env } });
    const check = reachable(doctor.stdout);
    assert.equal(check.status, "fail");
    assert.match(check.detail, /wrong Redis password \(or ACL user\)/);
    assert.match(check.fix ?? "", cli);
    assert.doesNotMatch(doctor.stdout, /wrong-password|right-password/);
  }
});

Deno.test("REDIS_URL at a port that is not Redis (HTTP, IMAP) says the port does not speak Redis", async () => {
  const servers = [
    foreignServer("", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
    foreignServer(
      "* OK [CAPABILITY IMAP4rev1 SASL-IR] Dovecot ready.\r\n",
      "BAD Error in IMAP command\r\n",
    ),
  ];
  try {
    for (const server of servers) {
      const env = { ...BASE, REDIS_URL: `redis://127.0.0.1:${server.port}` };
      const inspect = await runIngest(["stream", "inspect"], { env });
      assert.equal(inspect.code, 1, inspect.stderr);
      assert.match(
        inspect.stderr,
        /\[REDIS_NOT_REDIS\].*this port does not speak the Redis protocol/,
      );
      assert.match(inspect.stderr, /redis-cli -u "\$REDIS_URL" PING/);
      const doctor = await runIngest(["doctor", "--json"], { env });
      const check = reachable(doctor.stdout);
      assert.match(check.detail, /this port does not speak the Redis protocol/, check.detail);
      assert.doesNotMatch(check.detail, /max retries per request/);
    }
  } finally {
    for (const server of servers) server.close();
  }
});

Deno.test("doctor's fix lines name the configured Redis, never the default localhost", async () => {
  await using redis = await startRedis({
    args: ["--requirepass", "pw", "--maxmemory-policy", "allkeys-lru"],
  });
  const env = {
    ...BASE,
    REDIS_HOST: "127.0.0.1",
    REDIS_PORT: String(redis.port),
    REDIS_PASSWORD: "pw",
  };
  const doctor = await runIngest(["doctor", "--json"], { env });
  const report = JSON.parse(doctor.stdout) as { checks: CheckJson[] };
  const fixes = report.checks.map((c) => c.fix ?? "").filter((fix) => fix.includes("redis-cli"));
  assert.ok(fixes.length >= 2, JSON.stringify(report.checks));
  const cli = `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p ${redis.port}`;
  for (const fix of fixes) {
    const uses = fix.split("redis-cli").length - 1;
    assert.equal(fix.split(cli).length - 1, uses, `a bare redis-cli in: ${fix}`);
  }
  // The printed command works as written (the shell expands $REDIS_PASSWORD).
  const policyFix = report.checks.find((c) => c.name === "redis.maxmemory_policy")!.fix!;
  const command = policyFix.split("  (")[0]!;
  const shell = await new Deno.Command("sh", {
    args: ["-c", command],
    env: { REDIS_PASSWORD: "pw" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(shell.code, 0, new TextDecoder().decode(shell.stderr));
  assert.match(
    await redis.cli("-a", "pw", "--no-auth-warning", "CONFIG", "GET", "maxmemory-policy"),
    /noeviction/,
  );
});
