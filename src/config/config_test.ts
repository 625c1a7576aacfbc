import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import { loadConfig } from "./config.ts";
import { VARIABLES } from "./variables.ts";

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}

Deno.test("loadConfig() gives the seed's defaults when nothing is set", () => {
  const config = loadConfig();
  assert.equal(config.redis.streamName, "email_ingestion_stream");
  assert.equal(config.redis.dlqStreamName, "email_ingestion_stream:dlq");
  assert.equal(config.redis.port, 6379);
  assert.equal(config.imap.host, "imap.gmail.com");
  assert.equal(config.imap.port, 993);
  assert.equal(config.imap.tls, true);
  assert.deepEqual(config.imap.mailboxes, ["INBOX"]);
  assert.equal(config.imap.auth, "oauth2");
  assert.equal(config.producer.pollIntervalSeconds, 60);
  assert.equal(config.producer.batchSize, 50);
  assert.equal(config.google.tokenFile, "tokens/gmail_token.json");
});

Deno.test("loadConfig() takes flags over environment over .env over defaults", () => {
  const config = loadConfig({
    flags: { IMAP_MAILBOX: "Flagged" },
    env: { IMAP_MAILBOX: "FromEnv", REDIS_HOST: "env-host" },
    dotenv: { IMAP_MAILBOX: "FromDotenv", REDIS_HOST: "dotenv-host", REDIS_PORT: "7000" },
  });
  assert.deepEqual(config.imap.mailboxes, ["Flagged"]);
  assert.equal(config.redis.host, "env-host");
  assert.equal(config.redis.port, 7000);
});

Deno.test("loadConfig() names every problem in one ConfigError", () => {
  const error = configErrorOf(() =>
    loadConfig({ env: { REDIS_PORT: "abc", IMAP_PORT: "70000", IMAP_TLS: "maybe" } })
  );
  assert.equal(error.problems.length, 3);
  assert.match(error.message, /REDIS_PORT.*"abc"/);
  assert.match(error.message, /IMAP_PORT.*"70000"/);
  assert.match(error.message, /IMAP_TLS/);
});

Deno.test("loadConfig() rejects a non-Redis URL without echoing it (it may hold a password)", () => {
  assert.throws(
    () => loadConfig({ env: { REDIS_URL: "http://user:hunter2@host" } }),
    (error: unknown) => error instanceof ConfigError && !error.message.includes("hunter2"),
  );
});

Deno.test("loadConfig() requires IMAP_PASSWORD for password logins and a 32-byte token key", () => {
  const error = configErrorOf(() =>
    loadConfig({ env: { IMAP_AUTH: "password", INGEST_TOKEN_KEY: btoa("short") } })
  );
  assert.equal(error.problems.length, 2);
});

Deno.test("loadConfig() returns a frozen object", () => {
  const config = loadConfig();
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.redis));
  assert.ok(Object.isFrozen(config.imap.mailboxes));
});

Deno.test("loadConfig() splits IMAP_MAILBOX on commas", () => {
  assert.deepEqual(loadConfig({ env: { IMAP_MAILBOX: "INBOX, Work ,Sent" } }).imap.mailboxes, [
    "INBOX",
    "Work",
    "Sent",
  ]);
});

Deno.test(".env.example lists every variable with its default", async () => {
  const example = await Deno.readTextFile(new URL("../../.env.example", import.meta.url));
  for (const variable of VARIABLES) {
    const line = example.split("\n").find((l) =>
      l.replace(/^#\s*/, "").startsWith(`${variable.name}=`)
    );
    assert.ok(line, `.env.example is missing ${variable.name}`);
    assert.ok(
      line.endsWith(`=${variable.default}`),
      `${variable.name} default differs in .env.example: ${line}`,
    );
  }
});

Deno.test("loadConfig() accepts REDIS_URL database numbers 0..15 and names REDIS_URL for any other path", () => {
  assert.equal(loadConfig({ env: { REDIS_URL: "redis://h:1/15" } }).redis.url, "redis://h:1/15");
  assert.equal(loadConfig({ env: { REDIS_URL: "redis://h:1/" } }).redis.url, "redis://h:1/");
  for (const path of ["abc", "16", "-1", "1.5", "0/x"]) {
    const error = configErrorOf(() =>
      loadConfig({ env: { REDIS_URL: `redis://:pw@h:1/${path}` } })
    );
    assert.equal(error.problems.length, 1, path);
    assert.match(error.problems[0]!, /^REDIS_URL: the path must be a database number 0\.\.15/);
    assert.doesNotMatch(error.problems[0]!, /pw/);
  }
});

Deno.test("loadConfig() reads REDIS_TLS_CA only with a rediss:// URL, and EXEC_SINK_ENV as names", () => {
  const tls = loadConfig({ env: { REDIS_URL: "rediss://h:1", REDIS_TLS_CA: "/etc/ca.pem" } });
  assert.equal(tls.redis.tlsCaFile, "/etc/ca.pem");
  const plain = configErrorOf(() =>
    loadConfig({ env: { REDIS_URL: "redis://h:1", REDIS_TLS_CA: "/etc/ca.pem" } })
  );
  assert.match(plain.problems[0]!, /REDIS_TLS_CA is set but REDIS_URL is not a rediss:\/\/ URL/);
  const names = loadConfig({ env: { EXEC_SINK_ENV: " CLASSIFIER_URL, HTTPS_PROXY ," } });
  assert.deepEqual(names.worker.execSinkEnv, ["CLASSIFIER_URL", "HTTPS_PROXY"]);
  assert.deepEqual(loadConfig().worker.execSinkEnv, []);
  const bad = configErrorOf(() => loadConfig({ env: { EXEC_SINK_ENV: "OK,not-a-name" } }));
  assert.match(bad.problems[0]!, /EXEC_SINK_ENV .*not a name: not-a-name/);
});
