import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { startRedis } from "./harness/redis_server.ts";

async function secretFile(content: string, mode: number): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "ingest-secret-" });
  await Deno.writeTextFile(path, content);
  await Deno.chmod(path, mode);
  return path;
}

Deno.test("REDIS_URL_FILE and REDIS_PASSWORD_FILE reach a Redis with requirepass; a loose file is refused", async () => {
  await using redis = await startRedis({ args: ["--requirepass", "file-held-pw"] });
  const url = await secretFile(`redis://:file-held-pw@127.0.0.1:${redis.port}\n`, 0o600);
  const password = await secretFile("file-held-pw\n", 0o400);
  try {
    const viaUrl = await runIngest(["stream", "inspect", "--json"], {
      env: { REDIS_URL_FILE: url },
    });
    assert.equal(viaUrl.code, 0, viaUrl.stderr);
    const viaPassword = await runIngest(["stream", "inspect", "--json"], {
      env: {
        REDIS_HOST: "127.0.0.1",
        REDIS_PORT: String(redis.port),
        REDIS_PASSWORD_FILE: password,
      },
    });
    assert.equal(viaPassword.code, 0, viaPassword.stderr);

    await Deno.chmod(url, 0o644);
    const loose = await runIngest(["stream", "inspect"], { env: { REDIS_URL_FILE: url } });
    assert.equal(loose.code, 2, loose.stderr);
    assert.ok(
      loose.stderr.includes(`REDIS_URL_FILE=${url} is readable by group or others`),
      loose.stderr,
    );
    assert.ok(loose.stderr.includes(`chmod 600 ${url}`), loose.stderr);
    assert.doesNotMatch(loose.stderr, /file-held-pw/);

    const both = await runIngest(["stream", "inspect"], {
      env: { REDIS_PASSWORD_FILE: password, REDIS_PASSWORD: "x" },
    });
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /REDIS_PASSWORD and REDIS_PASSWORD_FILE are both set/);
  } finally {
    await Deno.remove(url);
    await Deno.remove(password);
  }
});

Deno.test("a .env that sets a *_FILE secret gets no unknown-variable warning", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const secret = await secretFile("hook-key\n", 0o600);
    await Deno.writeTextFile(`${dir}/.env`, `WEBHOOK_SECRET_FILE=${secret}\nREDIS_PROT=1\n`);
    // Without --yes, state reset stops after reading the configuration (nothing connects).
    const run = await runIngest([
      "--env-file",
      `${dir}/.env`,
      "state",
      "reset",
      "--mailbox",
      "INBOX",
    ], {
      env: {},
    });
    assert.match(
      run.stderr,
      /sets REDIS_PROT, which ingest does not read: did you mean REDIS_PORT\?/,
    );
    assert.doesNotMatch(run.stderr, /WEBHOOK_SECRET_FILE/);
    await Deno.remove(secret);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
