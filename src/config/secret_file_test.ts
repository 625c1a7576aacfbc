import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import { loadConfig } from "./config.ts";

async function secretFile(content: string, mode: number): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "ingest-secret-" });
  await Deno.writeTextFile(path, content);
  await Deno.chmod(path, mode);
  return path;
}

function problems(run: () => unknown): readonly string[] {
  try {
    run();
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
}

Deno.test("every secret accepts <NAME>_FILE: the file's content without its trailing newline", async () => {
  const key = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
  const files = {
    IMAP_PASSWORD_FILE: await secretFile("imap pw\n", 0o600),
    GOOGLE_CLIENT_SECRET_FILE: await secretFile("client-secret\r\n", 0o400),
    INGEST_TOKEN_KEY_FILE: await secretFile(`${key}\n`, 0o600),
    WEBHOOK_SECRET_FILE: await secretFile("hook\n", 0o600),
    REDIS_PASSWORD_FILE: await secretFile("redis pw", 0o600),
    REDIS_URL_FILE: await secretFile("redis://app:s3cret@127.0.0.1:7000/2\n", 0o600),
  };
  try {
    const config = loadConfig({ env: { ...files, IMAP_AUTH: "password" } });
    assert.equal(config.imap.password, "imap pw");
    assert.equal(config.google.clientSecret, "client-secret");
    assert.equal(config.google.tokenKey, key);
    assert.equal(config.worker.webhookSecret, "hook");
    assert.equal(config.redis.password, "redis pw");
    assert.equal(config.redis.url, "redis://app:s3cret@127.0.0.1:7000/2");
  } finally {
    for (const path of Object.values(files)) await Deno.remove(path);
  }
});

Deno.test("a secret file readable by group or others is refused, naming the file and chmod 600", async () => {
  const path = await secretFile("pw\n", 0o640);
  try {
    const found = problems(() => loadConfig({ env: { REDIS_PASSWORD_FILE: path } }));
    assert.equal(found.length, 1, found.join("\n"));
    assert.ok(found[0]!.includes(path), found[0]!);
    assert.match(found[0]!, /REDIS_PASSWORD_FILE=.* readable by group or others \(mode 640\)/);
    assert.ok(found[0]!.includes(`chmod 600 ${path}`), found[0]!);
    assert.ok(!found[0]!.includes("pw\n"));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("NAME and NAME_FILE together, or a missing file, are configuration problems", async () => {
  const path = await secretFile("pw", 0o600);
  try {
    assert.deepEqual(
      problems(() => loadConfig({ env: { WEBHOOK_SECRET: "x", WEBHOOK_SECRET_FILE: path } })),
      ["WEBHOOK_SECRET and WEBHOOK_SECRET_FILE are both set: keep only one"],
    );
    const missing = problems(() =>
      loadConfig({ env: { GOOGLE_CLIENT_SECRET_FILE: `${path}.missing` } })
    );
    assert.match(missing.join("\n"), /GOOGLE_CLIENT_SECRET_FILE=.*\.missing: cannot read the file/);
    // The environment's file wins over a value in .env, as any environment value does.
    const config = loadConfig({
      env: { WEBHOOK_SECRET_FILE: path },
      dotenv: { WEBHOOK_SECRET: "from-dotenv" },
    });
    assert.equal(config.worker.webhookSecret, "pw");
  } finally {
    await Deno.remove(path);
  }
});
