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

Deno.test("setup.sh install path (fake apt-get, systemctl): services denied, policy restored, only new units stopped", async () => {
  const work = await Deno.makeTempDir({ prefix: "ingest-setup-install-" });
  const policy = `${work}/policy-rc.d`;
  const systemd = `${work}/systemd`;
  await Deno.mkdir(systemd);
  const original = "#!/bin/sh\n# the administrator's own\nexit 0\n";
  await Deno.writeTextFile(policy, original, { mode: 0o755 });
  const dir = await pathWithout(["redis-server", "promtool"], {
    // During the install, records what policy-rc.d answers for a service start.
    "apt-get": `echo "apt-get $*" >> ${work}/calls
if [ "$1" = install ]; then sh ${policy} redis-server start; echo "policy-rc.d exit $?" >> ${work}/calls
  for p in redis-server promtool; do printf '#!/bin/sh\n' > "$(dirname "$0")/$p"; chmod +x "$(dirname "$0")/$p"; done
fi`,
    systemctl: `echo "systemctl $*" >> ${work}/calls`,
  });
  try {
    const result = await setup(["test"], {
      PATH: dir,
      INGEST_SETUP_POLICY_RC: policy,
      INGEST_SETUP_SYSTEMD_RUNTIME: systemd,
    });
    assert.equal(result.code, 0, result.stderr);
    const calls = (await Deno.readTextFile(`${work}/calls`)).trim().split("\n");
    assert.deepEqual(calls, [
      "apt-get update -qq",
      "apt-get install -y -qq --no-install-recommends redis-server prometheus",
      "policy-rc.d exit 101",
      "systemctl disable --now redis-server.service",
      "systemctl disable --now prometheus.service",
    ]);
    assert.equal(await Deno.readTextFile(policy), original, "the existing policy-rc.d is back");
    const leftovers = [...Deno.readDirSync(work)].map((e) => e.name).filter((n) =>
      n.includes("backup")
    );
    assert.deepEqual(leftovers, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("setup.sh install path without an existing policy-rc.d removes the one it wrote", async () => {
  const work = await Deno.makeTempDir({ prefix: "ingest-setup-install-" });
  const policy = `${work}/policy-rc.d`;
  const dir = await pathWithout(["redis-server"], {
    "apt-get": `[ "$1" = install ] && sh ${policy} x start; echo $? >> ${work}/exit
[ "$1" = install ] && printf '#!/bin/sh\n' > "$(dirname "$0")/redis-server" && chmod +x "$(dirname "$0")/redis-server"; true`,
  });
  try {
    const result = await setup(["demo"], {
      PATH: dir,
      INGEST_SETUP_POLICY_RC: policy,
      INGEST_SETUP_SYSTEMD_RUNTIME: `${work}/no-systemd`,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await Deno.readTextFile(`${work}/exit`)).trim().split("\n").at(-1), "101");
    await assert.rejects(Deno.stat(policy), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("setup.sh fails when apt-get succeeded but the program is still missing", async () => {
  const work = await Deno.makeTempDir({ prefix: "ingest-setup-install-" });
  const dir = await pathWithout(["redis-server"], { "apt-get": "true" });
  try {
    const result = await setup(["demo"], {
      PATH: dir,
      INGEST_SETUP_POLICY_RC: `${work}/policy-rc.d`,
      INGEST_SETUP_SYSTEMD_RUNTIME: `${work}/no-systemd`,
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /'redis-server' \(package redis-server\) is still missing/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("setup.sh installs a missing Deno from npm (fake npm) and nothing else", async () => {
  const work = await Deno.makeTempDir({ prefix: "ingest-setup-deno-" });
  const dir = await pathWithout(["deno"], {
    npm: `echo "npm $*" >> ${work}/calls
[ "$1" = prefix ] && echo ${work}
[ "$1" = install ] && printf '#!/bin/sh\\n' > "$(dirname "$0")/deno" && chmod +x "$(dirname "$0")/deno"; true`,
    "apt-get": `echo "apt-get $*" >> ${work}/calls`,
  });
  try {
    const result = await setup(["test"], { PATH: dir });
    assert.equal(result.code, 0, result.stderr);
    const calls = (await Deno.readTextFile(`${work}/calls`)).trim().split("\n");
    assert.deepEqual(calls.filter((c) => !c.startsWith("npm prefix")), [
      "npm install -g --allow-scripts=deno deno@2.9.6",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(work, { recursive: true });
  }
});
