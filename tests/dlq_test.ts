import assert from "node:assert/strict";
import { runIngest } from "./harness/cli.ts";
import { startRedis } from "./harness/redis_server.ts";
import {
  addEmails,
  client,
  freshStream,
  range,
  readJsonLines,
  workerEnv,
} from "./worker_fixtures.ts";

const MOD_URL = new URL("../mod.ts", import.meta.url).href;

interface ListedLetter {
  id: string;
  uid: number | null;
  subject: string | null;
  reason: string;
  error: string;
  attempts: number;
  source_id: string;
  idempotency_key: string;
  type: string;
}

Deno.test("ingest dlq list, replay and purge against a real Redis", async (t) => {
  await using server = await startRedis();
  const redis = await client(server.url);
  const dir = await Deno.makeTempDir({ prefix: "ingest-dlq-" });
  const rejecting = `${dir}/reject.ts`;
  await Deno.writeTextFile(
    rejecting,
    `import { PermanentError } from ${JSON.stringify(MOD_URL)};
export function handle(): never { throw new PermanentError("the CRM rejects every message"); }
`,
  );
  const stream = freshStream("dlq");
  const env = workerEnv(server.url, stream);
  const ingest = async (...args: string[]) => await runIngest(args, { env });
  const dlqLength = () => redis.xlen(`${stream}:dlq`);
  try {
    const sourceIds = await addEmails(redis, stream, range(4));
    let letters: ListedLetter[] = [];

    await t.step("a sink that always fails permanently sends every entry to the DLQ", async () => {
      const run = await ingest("work", "--drain", "--sink", `module:${rejecting}`);
      assert.equal(run.code, 3, `exit 3: entries were dead-lettered\n${run.stderr}`);
      assert.match(run.stderr, /4 entries were dead-lettered during this run \(exit 3\)/);
      assert.equal(await dlqLength(), 4);
      const pending = await redis.xpending(stream, "email_workers") as [number];
      assert.equal(Number(pending[0]), 0);
    });

    await t.step("dlq list --json lists them with reason, error and source", async () => {
      const run = await ingest("dlq", "list", "--json");
      assert.equal(run.code, 0, run.stderr);
      const listing = JSON.parse(run.stdout);
      assert.equal(listing.stream, `${stream}:dlq`);
      assert.equal(listing.total, 4);
      letters = listing.entries;
      assert.deepEqual(letters.map((l) => l.source_id), sourceIds);
      assert.ok(letters.every((l) => l.reason === "permanent" && l.attempts === 1));
      assert.equal(letters[0]!.error, "the CRM rejects every message");
      assert.equal(letters[0]!.idempotency_key, "worker@example.test:INBOX:7:1");
      assert.equal(letters[0]!.type, "email");
      assert.equal("payload" in letters[0]!, false, "no email content in the listing");
      const exported = JSON.parse((await ingest("dlq", "list", "--json", "--with-fields")).stdout);
      assert.equal(JSON.parse(exported.entries[0].fields.payload).uid, 1);
      const limited = JSON.parse((await ingest("dlq", "list", "--limit", "2", "--json")).stdout);
      assert.equal(limited.total, 4);
      assert.equal(limited.entries.length, 2);
      assert.deepEqual(letters.map((l) => [l.uid, l.subject]), [
        [1, "message 1"],
        [2, "message 2"],
        [3, "message 3"],
        [4, "message 4"],
      ]);
      const human = await ingest("dlq", "list");
      assert.match(human.stdout, /ID\s+REASON\s+ATTEMPTS\s+LAST_FAILURE\s+UID\s+SUBJECT\s+ERROR/);
      assert.match(human.stdout, /permanent\s+1\s+\S+\s+3\s+message 3\s+the CRM rejects/);
      assert.match(human.stdout, /1-4 of 4 shown/);
    });

    await t.step("dlq list filters --reason and pages --offset with --limit", async () => {
      // A malformed entry beside the four permanent ones: a second reason to filter on.
      await redis.xadd(stream, "*", "type", "bogus", "payload", "{}");
      const drained = await ingest("work", "--drain", "--sink", `module:${rejecting}`);
      assert.equal(drained.code, 3, drained.stderr);
      const json = async (...args: string[]) => {
        const run = await ingest("dlq", "list", "--json", ...args);
        assert.equal(run.code, 0, run.stderr);
        return JSON.parse(run.stdout);
      };
      const malformed = await json("--reason", "malformed");
      assert.equal(malformed.total, 1);
      assert.equal(malformed.reason, "malformed");
      assert.deepEqual(
        malformed.entries.map((l: ListedLetter) => [l.reason, l.uid, l.subject]),
        [["malformed", null, null]],
      );
      const page = await json("--reason", "permanent", "--offset", "1", "--limit", "2");
      assert.equal(page.total, 4, "total counts the entries of that reason");
      assert.deepEqual([page.offset, page.limit], [1, 2]);
      assert.deepEqual(page.entries.map((l: ListedLetter) => l.uid), [2, 3]);
      const rest = await json("--offset", "3");
      assert.equal(rest.total, 5);
      assert.equal(rest.reason, null);
      assert.deepEqual(rest.entries.map((l: ListedLetter) => l.uid), [4, null]);
      const beyond = await ingest("dlq", "list", "--offset", "9");
      assert.match(beyond.stdout, /No entries after offset 9 \(5 in all\)/);
      const human = await ingest("dlq", "list", "--reason", "permanent", "--offset", "2");
      assert.match(human.stdout, /3-4 of 4 shown/);
      const bad = await ingest("dlq", "list", "--reason", "timeout", "--offset", "-1");
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        /--reason must be one of max_attempts, permanent, malformed, poison/,
      );
      assert.match(bad.stderr, /--offset must be a whole number/);
      const purged = await ingest("dlq", "purge", "--id", malformed.entries[0].id);
      assert.equal(purged.code, 0, purged.stderr);
      assert.equal(await dlqLength(), 4);
    });

    await t.step("dlq replay --dry-run changes nothing", async () => {
      const before = await redis.xlen(stream);
      const run = await ingest("dlq", "replay", "--all", "--dry-run", "--json");
      assert.equal(run.code, 0, run.stderr);
      const result = JSON.parse(run.stdout);
      assert.equal(result.dry_run, true);
      assert.equal(result.replayed.length, 4);
      assert.equal(result.replayed[0].new_id, null);
      assert.equal(await dlqLength(), 4);
      assert.equal(await redis.xlen(stream), before);
    });

    await t.step("dlq replay --id moves one entry back with a new id", async () => {
      const run = await ingest("dlq", "replay", "--id", letters[0]!.id, "--json");
      assert.equal(run.code, 0, run.stderr);
      const result = JSON.parse(run.stdout);
      assert.equal(result.replayed.length, 1);
      assert.equal(result.replayed[0].dlq_id, letters[0]!.id);
      assert.equal(result.replayed[0].source_id, sourceIds[0]);
      assert.notEqual(result.replayed[0].new_id, sourceIds[0]);
      assert.equal(await dlqLength(), 3);
      const replayed = await redis.xrange(stream, result.replayed[0].new_id, "+") as [
        string,
        string[],
      ][];
      const fields = replayed[0]![1];
      assert.deepEqual(fields.filter((_: string, i: number) => i % 2 === 0), [
        "type",
        "idempotency_key",
        "payload",
      ]);
    });

    await t.step("replaying an id that is no longer in the DLQ exits 1 and says so", async () => {
      const run = await ingest("dlq", "replay", "--id", letters[0]!.id);
      assert.equal(run.code, 1);
      assert.match(run.stdout, /not in the DLQ/);
    });

    await t.step(
      "dlq replay --all empties the DLQ; a working sink then gets each once",
      async () => {
        const run = await ingest("dlq", "replay", "--all");
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /Replayed 3 entries/);
        assert.equal(await dlqLength(), 0);
        const out = `${dir}/out.jsonl`;
        const work = await ingest("work", "--drain", "--sink", `file:${out}`);
        assert.equal(work.code, 0, work.stderr);
        const again = await ingest("work", "--drain", "--sink", `file:${out}`);
        assert.equal(again.code, 0, again.stderr);
        const keys = (await readJsonLines(out)).map((line) => line.idempotency_key);
        assert.deepEqual(keys.sort(), range(4).map((uid) => `worker@example.test:INBOX:7:${uid}`));
        assert.ok((await readJsonLines(out)).every((line) => line.attempt === 1), "fresh attempts");
        assert.equal(await dlqLength(), 0);
      },
    );

    await t.step("dlq purge --id and --all --yes delete entries for good", async () => {
      await addEmails(redis, stream, [11, 12, 13]);
      await ingest("work", "--drain", "--sink", `module:${rejecting}`);
      const listing = JSON.parse((await ingest("dlq", "list", "--json")).stdout);
      assert.equal(listing.total, 3);
      const one = await ingest("dlq", "purge", "--id", listing.entries[0].id, "--json");
      assert.equal(one.code, 0, one.stderr);
      assert.deepEqual(JSON.parse(one.stdout), {
        stream: `${stream}:dlq`,
        purged: 1,
        missing: [],
        // One partition: its one row is the DLQ itself.
        partitions: [{ partition: 0, stream: `${stream}:dlq`, purged: 1 }],
      });
      // Like replay: an id that is not in the DLQ (a typo, or already purged) exits 1, named.
      const typo = await ingest("dlq", "purge", "--id", listing.entries[0].id, "--id", "1-0");
      assert.equal(typo.code, 1, typo.stderr);
      assert.match(typo.stdout, /not in the DLQ: 1-0/);
      assert.match(typo.stdout, /Purged 0 entries/);
      assert.equal(await dlqLength(), 2);
      const all = await ingest("dlq", "purge", "--all", "--yes", "--json");
      assert.equal(all.code, 0, all.stderr);
      assert.equal(JSON.parse(all.stdout).purged, 2);
      assert.equal(await dlqLength(), 0);
    });

    await t.step("bad combinations are usage errors (exit 2) and change nothing", async () => {
      await addEmails(redis, stream, [21]);
      await ingest("work", "--drain", "--sink", `module:${rejecting}`);
      const cases: [string[], RegExp][] = [
        [["dlq", "replay"], /--id ID .* or --all/],
        [["dlq", "replay", "--all", "--id", "1-0"], /either --id or --all/],
        [["dlq", "replay", "--id", "last-one"], /stream id like/],
        [["dlq", "purge", "--all"], /without --yes/],
        [["dlq", "purge"], /--id ID .* or --all/],
        [["dlq", "list", "--limit", "0"], /--limit must be a whole number/],
      ];
      for (const [args, message] of cases) {
        const run = await ingest(...args);
        assert.equal(run.code, 2, args.join(" "));
        assert.match(run.stderr, message, args.join(" "));
      }
      assert.equal(await dlqLength(), 1);
    });

    await t.step("dlq purge --all on a terminal asks first, and 'n' deletes nothing", async () => {
      const run = await runIngest(["dlq", "purge", "--all"], {
        env,
        interactive: true,
        stdinLines: ["n"],
      });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /Aborted: nothing deleted/);
      assert.equal(await dlqLength(), 1);
    });
  } finally {
    redis.disconnect();
    await Deno.remove(dir, { recursive: true });
  }
});
