import assert from "node:assert/strict";
import { App } from "../cli/app.ts";
import { completionTree } from "../cli/commands/completions.ts";
import { buildProgram } from "../cli/program.ts";
import { runIngest } from "./harness/cli.ts";

/** Every subcommand path of the real program, e.g. "state reset". */
function subcommandPaths(): string[] {
  const app = new App({
    env: {},
    stdout: () => {},
    stderr: () => {},
    readLine: () => Promise.resolve(null),
    interactive: false,
    stderrIsTerminal: false,
    signal: new AbortController().signal,
  });
  return completionTree(buildProgram(app)).slice(1).map((node) => node.path.slice(1).join(" "));
}

/** Runs the bash completion function for `line` (the word being completed last). */
async function bashComplete(script: string, words: string[]): Promise<string[]> {
  const program = `${script}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})
COMP_CWORD=${words.length - 1}
_ingest
printf '%s\\n' "\${COMPREPLY[@]}"
`;
  const output = await new Deno.Command("bash", { args: ["-c", program] }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout).split("\n").filter((line) => line !== "");
}

Deno.test("the bash completion script passes bash -n", async () => {
  const result = await runIngest(["completions", "bash"]);
  assert.equal(result.code, 0, result.stderr);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ingest.bash`, result.stdout);
    const check = await new Deno.Command("bash", { args: ["-n", `${dir}/ingest.bash`] }).output();
    assert.equal(check.code, 0, new TextDecoder().decode(check.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bash completes subcommands, nested subcommands and their options", async () => {
  const script = (await runIngest(["completions", "bash"])).stdout;
  const top = await bashComplete(script, ["ingest", ""]);
  for (const name of ["state", "stream", "completions"]) assert.ok(top.includes(name), name);
  assert.deepEqual(await bashComplete(script, ["ingest", "st"]), ["state", "stream"]);
  assert.deepEqual(await bashComplete(script, ["ingest", "state", "r"]), ["reset"]);
  const resetOptions = await bashComplete(script, ["ingest", "state", "reset", "--"]);
  for (const flag of ["--mailbox", "--to-uid", "--yes", "--json"]) {
    assert.ok(resetOptions.includes(flag), flag);
  }
  assert.deepEqual(await bashComplete(script, ["ingest", "completions", "z"]), ["zsh"]);
  // Issue 17's commands and flags come from the tree, with no script edited.
  assert.deepEqual(await bashComplete(script, ["ingest", "group", "l"]), ["list"]);
  assert.deepEqual(await bashComplete(script, ["ingest", "group", "d"]), ["delete"]);
  assert.deepEqual(await bashComplete(script, ["ingest", "stream", "p"]), ["peek"]);
  const produceOptions = await bashComplete(script, ["ingest", "produce", "--"]);
  for (const flag of ["--account", "--username"]) assert.ok(produceOptions.includes(flag), flag);
  const rootOptions = await bashComplete(script, ["ingest", "--no"]);
  assert.ok(rootOptions.includes("--no-env-file"), rootOptions.join(" "));
});

Deno.test("zsh and fish scripts name every subcommand of the command tree", async () => {
  const paths = subcommandPaths();
  assert.ok(paths.includes("state reset") && paths.includes("completions"));
  for (const shell of ["zsh", "fish"]) {
    const result = await runIngest(["completions", shell]);
    assert.equal(result.code, 0, result.stderr);
    for (const path of paths) {
      assert.ok(result.stdout.includes(`'ingest ${path}'`), `${shell} lacks "${path}"`);
    }
  }
  const zsh = (await runIngest(["completions", "zsh"])).stdout;
  assert.match(zsh, /^#compdef ingest/);
  assert.match(zsh, /'reset:Move a mailbox/);
  const fish = (await runIngest(["completions", "fish"])).stdout;
  assert.match(
    fish,
    /complete -c ingest -f -n 'test \(__ingest_path\) = '\\''ingest state'\\''' -a 'reset'/,
  );
  assert.match(fish, /-l 'to-uid'/);
});

Deno.test("completions rejects an unknown shell with a usage error", async () => {
  const result = await runIngest(["completions", "powershell"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /bash, zsh, fish/);
});
