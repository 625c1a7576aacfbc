import assert from "node:assert/strict";
import { documentationComment, readScriptOptions } from "../scripts/script_options.ts";

const scripts = new URL("../scripts/", import.meta.url);
const options = {
  runs: { type: "string", default: "3" },
  cli: { type: "boolean", default: false },
} as const;

Deno.test("script options: values with their defaults, arguments, --help, and mistakes as one message", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/bench_x.ts`;
    await Deno.writeTextFile(
      script,
      "/**\n * Measures x.\n *\n *   deno run -A scripts/bench_x.ts [--runs 3]\n *\n * @module\n */\n",
    );
    const read = readScriptOptions(script, ["--cli"], options);
    assert.deepEqual(read.kind === "values" ? { ...read.values } : read, { runs: "3", cli: true });
    const help = readScriptOptions(script, ["--runs", "5", "-h"], options);
    assert.deepEqual(help, {
      kind: "help",
      text: "Measures x.\n\n  deno run -A scripts/bench_x.ts [--runs 3]",
    });
    const typo = readScriptOptions(script, ["--run", "5"], options);
    assert.equal(typo.kind, "problem");
    assert.match(typo.kind === "problem" ? typo.message : "", /'--run'[\s\S]*--help/);
    const stray = readScriptOptions(script, ["5"], options);
    assert.match(stray.kind === "problem" ? stray.message : "", /Expected no arguments.*got 5/);
    const corpus = readScriptOptions(script, ["mail", "--cli"], options, ["CORPUS_DIR"]);
    assert.deepEqual(corpus.kind === "values" ? corpus.positionals : corpus, ["mail"]);
    const none = readScriptOptions(script, ["--cli"], options, ["CORPUS_DIR"]);
    assert.match(none.kind === "problem" ? none.message : "", /Expected CORPUS_DIR.*got none/);
    const dashed = readScriptOptions(script, ["--runs", "--cli"], options);
    assert.equal(dashed.kind, "problem", "a value that looks like an option is not taken silently");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every script that reads its options this way has usage lines for --help", async () => {
  const users: string[] = [];
  for await (const entry of Deno.readDir(scripts)) {
    if (!entry.name.endsWith(".ts") || entry.name === "script_options.ts") continue;
    const path = new URL(entry.name, scripts).pathname;
    if (!(await Deno.readTextFile(path)).includes("scriptOptions(import.meta.filename!")) continue;
    users.push(entry.name);
    assert.match(documentationComment(path), /deno run /, `${entry.name}: no usage in its comment`);
  }
  assert.ok(users.length >= 10, `only ${users.length} scripts use scriptOptions`);
});
