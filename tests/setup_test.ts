import assert from "node:assert/strict";

// scripts/setup.sh is what scripts/demo.sh, scripts/test.sh and .ci/run run
// first. On this machine everything is installed, so the "already installed"
// path runs for real; the install path runs as --dry-run with a PATH that
// hides some programs (installing for real would change the machine).

const SETUP = new URL("../scripts/setup.sh", import.meta.url).pathname;

async function setup(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  const output = await new Deno.Command("bash", {
    args: [SETUP, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(new TextDecoder().decode(output.stdout), "", "logs go to stderr only");
  return { code: output.code, stderr };
}

/** A directory of links to every program in /usr/bin except `hide`; extra scripts on top. */
async function pathWithout(hide: string[], scripts: Record<string, string> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ingest-setup-path-" });
  for await (const entry of Deno.readDir("/usr/bin")) {
    if (!hide.includes(entry.name) && !(entry.name in scripts)) {
      await Deno.symlink(`/usr/bin/${entry.name}`, `${dir}/${entry.name}`);
    }
  }
  for (const [name, body] of Object.entries(scripts)) {
    await Deno.writeTextFile(`${dir}/${name}`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return dir;
}

Deno.test("setup.sh test: with everything installed it changes nothing", async () => {
  const result = await setup(["test"], { PATH: Deno.env.get("PATH") ?? "/usr/bin" });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /nothing to install/);
  assert.doesNotMatch(result.stderr, /apt-get|npm install/);
});

Deno.test("setup.sh --dry-run test: plans Deno from npm and the missing packages, services kept off", async () => {
  const dir = await pathWithout(["deno", "redis-server", "promtool"]);
  try {
    const result = await setup(["--dry-run", "test"], { PATH: dir });
    assert.equal(result.code, 0, result.stderr);
    const planned = result.stderr.split("\n").filter((line) => line.includes("would run:"));
    assert.deepEqual(planned, [
      "[setup] would run: npm install -g --allow-scripts=deno deno@2.9.6",
      "[setup] would run: apt-get update -qq",
      "[setup] would run: apt-get install -y -qq --no-install-recommends redis-server prometheus",
    ]);
    assert.match(result.stderr, /policy-rc\.d \(exit 101: no service starts\)/);
    assert.doesNotMatch(result.stderr, /dovecot-imapd/, "Dovecot is installed: not planned");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setup.sh demo: Prometheus is not needed for the demo", async () => {
  const dir = await pathWithout(["promtool", "prometheus"]);
  try {
    const result = await setup(["--dry-run", "demo"], { PATH: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /nothing to install/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setup.sh as a non-root user: says root is needed and what is missing, exits 1", async () => {
  const dir = await pathWithout(["redis-server"], {
    id: '[ "$1" = "-u" ] && echo 1000 || /usr/bin/id "$@"',
  });
  try {
    const result = await setup(["test"], { PATH: dir });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /missing redis-server: installing them needs root; run 'sudo /);
    assert.doesNotMatch(result.stderr, /running: apt-get/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setup.sh rejects a missing or unknown target", async () => {
  assert.equal((await setup([], { PATH: "/usr/bin" })).code, 1);
  const unknown = await setup(["--force"], { PATH: "/usr/bin" });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown argument '--force'/);
});
