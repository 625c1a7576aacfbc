import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("README quick start: exactly two commands, one for the demo, one for the tests", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const section = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("## Using it"));
  const block = section.match(/```sh\n([\s\S]*?)```/)?.[1] ?? "";
  const commands = block.split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean);
  assert.deepEqual(commands, ["scripts/demo.sh", "scripts/test.sh"]);
  for (const script of ["scripts/demo.sh", "scripts/test.sh", "scripts/setup.sh"]) {
    const info = await Deno.stat(`${ROOT}${script}`);
    assert.ok((info.mode ?? 0) & 0o100, `${script} is executable`);
  }
});

Deno.test(".ci/run runs the README's test command and stops nothing it did not start", async () => {
  const ci = await Deno.readTextFile(`${ROOT}.ci/run`);
  const code = ci.split("\n").filter((line) => !line.trimStart().startsWith("#")).join("\n");
  assert.match(code, /^scripts\/test\.sh "\$@"/m);
  assert.doesNotMatch(code, /\b(pkill|killall|kill|systemctl|service)\b/);
});

Deno.test(".ci/run ends with 'N passed, N failed' from the test command's summary", async () => {
  const output = await new Deno.Command(`${ROOT}.ci/run`, {
    args: ["cli/signal_gate_test.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(output.stdout).trimEnd().split("\n");
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const counts = lines.at(-1)?.match(/^(\d+) passed, (\d+) failed$/);
  assert.ok(counts, `last line: ${lines.at(-1)}`);
  assert.ok(Number(counts[1]) >= 3, "the signal gate's tests ran");
  assert.equal(counts[2], "0");
});
