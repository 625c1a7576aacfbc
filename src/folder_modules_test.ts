import assert from "node:assert/strict";
import * as accounts from "./accounts/mod.ts";
import * as api from "./api/mod.ts";
import * as async from "./async/mod.ts";
import * as auth from "./auth/mod.ts";
import * as config from "./config/mod.ts";
import * as dlq from "./dlq/mod.ts";
import * as doctor from "./doctor/mod.ts";
import * as fleet from "./fleet/mod.ts";
import * as health from "./health/mod.ts";
import * as imap from "./imap/mod.ts";
import * as log from "./log/mod.ts";
import * as metrics from "./metrics/mod.ts";
import * as observe from "./observe/mod.ts";
import * as producer from "./producer/mod.ts";
import * as progress from "./progress/mod.ts";
import * as redis from "./redis/mod.ts";
import * as retry from "./retry/mod.ts";
import * as sinks from "./sinks/mod.ts";
import * as state from "./state/mod.ts";
import * as stream from "./stream/mod.ts";
import * as worker from "./worker/mod.ts";

const modules: Record<string, object> = {
  accounts,
  api,
  async,
  auth,
  config,
  dlq,
  doctor,
  fleet,
  health,
  imap,
  log,
  metrics,
  observe,
  producer,
  progress,
  redis,
  retry,
  sinks,
  state,
  stream,
  worker,
};

Deno.test("every src/ folder has a documented mod.ts that re-exports its public names", async () => {
  const folders: string[] = [];
  for await (const entry of Deno.readDir(new URL("./", import.meta.url))) {
    if (entry.isDirectory) folders.push(entry.name);
  }
  assert.deepEqual(folders.sort(), Object.keys(modules).sort(), "add the folder's mod.ts here");
  for (const folder of folders) {
    const text = await Deno.readTextFile(new URL(`./${folder}/mod.ts`, import.meta.url));
    assert.match(text, /^\/\*\*\n \* \S[\s\S]*@module\n \*\//, `${folder}/mod.ts has a module doc`);
    assert.ok(Object.keys(modules[folder]!).length > 0, `${folder}/mod.ts exports something`);
  }
});
