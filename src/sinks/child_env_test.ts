import assert from "node:assert/strict";
import { childEnvironment } from "./child_env.ts";

const PARENT = {
  PATH: "/usr/bin:/bin",
  HOME: "/home/ingest",
  LANG: "C.UTF-8",
  LC_ALL: "C.UTF-8",
  TZ: "UTC",
  IMAP_PASSWORD: "p",
  WEBHOOK_SECRET: "w",
  INGEST_TOKEN_KEY: "k",
  GOOGLE_CLIENT_SECRET: "g",
  REDIS_URL: "redis://:pw@127.0.0.1:1/0",
  REDIS_PASSWORD: "r",
  CLASSIFIER_URL: "http://127.0.0.1:9",
  LC_lower: "not a locale variable",
};

Deno.test("childEnvironment() passes PATH, HOME, the locale and TZ, and no secret", () => {
  assert.deepEqual(childEnvironment(PARENT), {
    PATH: "/usr/bin:/bin",
    HOME: "/home/ingest",
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
    TZ: "UTC",
  });
});

Deno.test("childEnvironment() adds the names of EXEC_SINK_ENV that are set", () => {
  const env = childEnvironment(PARENT, ["CLASSIFIER_URL", "NOT_SET"]);
  assert.equal(env.CLASSIFIER_URL, "http://127.0.0.1:9");
  assert.equal("NOT_SET" in env, false);
  assert.equal("IMAP_PASSWORD" in env, false);
});
