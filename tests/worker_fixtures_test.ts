// The fixtures' file reader, on a file caught in the middle of a write.
import assert from "node:assert/strict";
import { readJsonLines } from "./worker_fixtures.ts";

Deno.test("readJsonLines() parses the complete lines and leaves out a line still being written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ingest-fixtures-" });
  try {
    const path = `${dir}/out.jsonl`;
    assert.deepEqual(await readJsonLines(path), [], "no file yet");
    await Deno.writeTextFile(path, '{"uid":1}\n{"uid":2}\n{"uid":3,"subj');
    assert.deepEqual(await readJsonLines(path), [{ uid: 1 }, { uid: 2 }]);
    await Deno.writeTextFile(path, 'ect":"x"}\n', { append: true });
    assert.deepEqual(await readJsonLines(path), [{ uid: 1 }, { uid: 2 }, { uid: 3, subject: "x" }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
