import assert from "node:assert/strict";
import { findRuntime } from "../scripts/compile.ts";
import { V8_FLAGS, v8FlagsArgument, v8FlagsArguments } from "../scripts/run_flags.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SCRIPT = `${ROOT}scripts/compile.ts`;
const runtime = await findRuntime();

async function runCompile(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, ...args],
    cwd: ROOT,
    env,
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

if (runtime.found) {
  Deno.test("deno task compile builds dist/ingest and the binary prints its help", async () => {
    const dir = await Deno.makeTempDir({ prefix: "ingest-compile-" });
    try {
      const binary = `${dir}/ingest`;
      const env: Record<string, string> = runtime.source === "DENORT_BIN"
        ? { DENORT_BIN: runtime.path }
        : {};
      const built = await runCompile(["--output", binary], env);
      assert.equal(built.code, 0, built.stderr);
      const help = await new Deno.Command(binary, { args: ["--help"], env: { HOME: dir } })
        .output();
      const text = new TextDecoder().decode(help.stdout);
      assert.equal(help.code, 0, new TextDecoder().decode(help.stderr));
      for (const command of ["produce", "state", "doctor", "completions"]) {
        assert.match(text, new RegExp(`\\b${command}\\b`));
      }
      // Commands load their implementation when they run: the binary must hold those modules too.
      const produce = await new Deno.Command(binary, {
        args: ["--no-env-file", "produce", "--once"],
        env: { HOME: dir },
        clearEnv: true,
      }).output();
      const produceErr = new TextDecoder().decode(produce.stderr);
      assert.equal(produce.code, 2, produceErr);
      assert.match(produceErr, /--account \(or IMAP_USER\) is required/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
} else {
  const why = `skipped: ${runtime.reason}; set DENORT_BIN=/path/to/denort to run it`;
  console.log(`compile_test: ${why}`);
  Deno.test({
    name: `deno task compile builds dist/ingest (${why})`,
    ignore: true,
    fn() {},
  });
}

Deno.test("compile stops with an explanation when DENORT_BIN points at nothing", async () => {
  const result = await runCompile(["--output", "/nonexistent/ingest"], {
    DENORT_BIN: "/nonexistent/denort",
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /DENORT_BIN=\/nonexistent\/denort is not a file/);
  assert.match(result.stderr, /deno compile needs Deno's runtime/);
  assert.match(
    result.stderr,
    /deno task bundle && deno install --global --force --name ingest --allow-net/,
  );
});

Deno.test("compile rejects an unknown argument", async () => {
  const result = await runCompile(["--fast"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown argument --fast/);
});

Deno.test("the ingest task, the compiled binary and the systemd unit run with the same V8 flags (bounded producer memory)", async () => {
  const deno = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
    tasks: Record<string, string>;
  };
  const task = deno.tasks.ingest ?? "";
  assert.match(task, new RegExp(`--v8-flags=${V8_FLAGS.join(",")} `));
  assert.ok(V8_FLAGS.includes("--max-semi-space-size=8"));
  const unit = await Deno.readTextFile(`${ROOT}docs/systemd/ingest-produce.service`);
  assert.match(unit, /ExecStart=\/usr\/local\/bin\/ingest /, "the unit runs the compiled binary");
  assert.ok(unit.includes(`#ExecStart=/usr/bin/deno run --allow-all ${v8FlagsArgument()} `));
});

Deno.test("the benchmarks pass their V8 flags to a child as one --v8-flags argument, none for V8's defaults", () => {
  assert.deepEqual(v8FlagsArguments(V8_FLAGS.join(" ")), [v8FlagsArgument()]);
  assert.deepEqual(v8FlagsArguments(" --a=1   --b "), ["--v8-flags=--a=1,--b"]);
  assert.deepEqual(v8FlagsArguments("  "), []);
});
