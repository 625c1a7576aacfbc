import assert from "node:assert/strict";
import { bundle } from "../scripts/bundle.ts";
import { installCommand, PERMISSIONS, v8FlagsArgument } from "../scripts/run_flags.ts";
import { execIngest } from "./harness/cli.ts";
import { startDovecot } from "./harness/dovecot.ts";
import { REALISTIC_KINDS, realisticMessage } from "./harness/mail.ts";
import { pipelineEnv, TEST_USER } from "./harness/pipeline_env.ts";
import { startRedis } from "./harness/redis_server.ts";
import { client, readJsonLines } from "./worker_fixtures.ts";

// The build `ingest` is installed on PATH from (README, Installation): `deno task bundle`.
// It runs here outside the checkout, with no deno.json, no node_modules and no npm
// resolution, with only the permissions the install line grants.

const ROOT = new URL("../", import.meta.url).pathname;
const decoder = new TextDecoder();

/** Runs the bundled `ingest` from its own directory as the install line would. */
async function runBundle(entry: string, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-config",
      "--no-npm",
      "--no-remote",
      ...PERMISSIONS,
      v8FlagsArgument(),
      entry,
      "--no-env-file",
      ...args,
    ],
    cwd: entry.slice(0, entry.lastIndexOf("/")),
    env: { LOG_FORMAT: "json", HEALTH_PORT: "0", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A stream's payloads by UID, without `fetched_at` (the time of the run). */
async function payloads(url: string): Promise<Map<number, unknown>> {
  const redis = await client(url);
  try {
    const rows = await redis.xrange("bundle-test", "-", "+");
    const byUid = new Map<number, unknown>();
    for (const [, fields] of rows) {
      const payload = JSON.parse(fields[fields.indexOf("payload") + 1]!) as Record<string, unknown>;
      delete payload.fetched_at;
      byUid.set(payload.uid as number, payload);
    }
    return byUid;
  } finally {
    redis.disconnect();
  }
}

Deno.test("the bundle runs on its own and ingests and delivers the same as the source", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ingest-bundle-" });
  try {
    const entry = await bundle({ entry: "cli/main.ts", outdir: `${dir}/bundle` });

    await t.step("--version and --help", async () => {
      const { version } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as {
        version: string;
      };
      const shown = await runBundle(entry, ["--version"]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(shown.stdout.trim(), version);
      const help = await runBundle(entry, ["--help"]);
      assert.equal(help.code, 0, help.stderr);
      for (const command of ["produce", "work", "dlq", "doctor", "fleet"]) {
        assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
      }
    });

    await t.step("produce --once and work --drain against Dovecot and Redis", async () => {
      await using dovecot = await startDovecot();
      await using server = await startRedis();
      // The source's run gets a Redis of its own: the UID cursor is per account and mailbox.
      await using sourceServer = await startRedis();
      // One of every kind: HTML only (html-to-text is a chunk of its own), ISO-8859-1,
      // quoted-printable, base64, attachments.
      for (let i = 0; i < REALISTIC_KINDS.length; i++) {
        await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i));
      }
      const env = (redisUrl: string) => ({
        ...pipelineEnv({ imapPort: dovecot.port, redisUrl, stream: "bundle-test" }),
        IMAP_MAILBOX: "INBOX",
      });
      const bundled = await runBundle(entry, ["produce", "--once"], env(server.url));
      assert.equal(bundled.code, 0, bundled.stderr);
      const source = await execIngest(["produce", "--once"], { env: env(sourceServer.url) });
      assert.equal(source.code, 0, source.stderr);
      const fromBundle = await payloads(server.url);
      assert.equal(fromBundle.size, REALISTIC_KINDS.length);
      assert.deepEqual(fromBundle, await payloads(sourceServer.url));

      const sinkFile = `${dir}/delivered.jsonl`;
      const work = await runBundle(
        entry,
        ["work", "--drain", "--sink", `file:${sinkFile}`],
        env(server.url),
      );
      assert.equal(work.code, 0, work.stderr);
      const lines = await readJsonLines(sinkFile);
      assert.equal(lines.length, REALISTIC_KINDS.length);

      // Each ops command loads its own chunk when it runs: every one must be in the bundle.
      for (
        const args of [
          ["stream", "inspect", "--json"],
          ["stream", "peek", "--count", "1", "--json"],
          ["group", "list", "--json"],
          ["dlq", "list", "--json"],
          ["state", "list", "--json"],
          ["accounts", "list", "--json"],
          ["doctor", "--json"],
        ]
      ) {
        const ran = await runBundle(entry, args, env(server.url));
        // doctor exits 1 for this harness Redis's warnings (no AOF); its report is still JSON.
        assert.ok(
          ran.code === 0 || args[0] === "doctor" && ran.code === 1,
          `${args}: ${ran.stderr}`,
        );
        assert.doesNotThrow(() => JSON.parse(ran.stdout), `${args.join(" ")}: ${ran.stdout}`);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task bundle names every bad argument and builds nothing", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}scripts/bundle.ts`, "--fast", "--outdir"],
    cwd: ROOT,
  }).output();
  const stderr = decoder.decode(output.stderr);
  assert.equal(output.code, 2, stderr);
  assert.match(stderr, /unknown argument --fast/);
  assert.match(stderr, /--outdir needs a directory/);
});

Deno.test("the README installs the bundle with the permissions and V8 flags of run_flags.ts", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  assert.ok(
    readme.includes(`\`deno task bundle && ${installCommand("dist/bundle/main.js")}\``),
    "README, Installation: the On your PATH line differs from scripts/run_flags.ts installCommand()",
  );
});
