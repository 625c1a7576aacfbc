/**
 * How the producer's payload agrees with two independent parsers on a folder
 * of real-world messages: mailparser's `simpleParser` on the whole message and
 * Python's `email` package with `policy.default` (scripts/python_email_oracle.py).
 *
 *   deno run -A scripts/compare_decoding.ts /path/to/corpus [--show 60] [--json out.json]
 *
 * Every file of the folder is APPENDed to a private Dovecot mailbox, then
 * `ingest produce --once --dry-run` reads it as in production (ENVELOPE,
 * BODYSTRUCTURE, header block, first bytes of the text parts). Subject, from,
 * to, date and body_text are compared after light normalisation (whitespace
 * collapsed, addresses lower-cased, body_text compared on its first 1,500
 * characters). A field Python could not produce cleanly (see the oracle) is
 * skipped for that oracle. Prints disagreements per field and oracle, then the
 * remaining ones. The corpus is the caller's: nothing of it is kept.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { simpleParser } from "mailparser";
import { startDovecot } from "../tests/harness/dovecot.ts";
import { pipelineEnv, TEST_USER } from "../tests/harness/pipeline_env.ts";
import { startRedis } from "../tests/harness/redis_server.ts";
import { scriptArguments } from "./script_options.ts";

const FIELDS = ["subject", "from", "to", "date", "body_text"] as const;
type Field = typeof FIELDS[number];
type Values = Partial<Record<Field, string | null>>;
interface OracleRow {
  values: Values;
  unclean: Set<Field>;
}

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const PYTHON_ORACLE = new URL("./python_email_oracle.py", import.meta.url).pathname;
const BODY_CHARS = 1_500;

const { values, positionals } = scriptArguments(import.meta.filename!, {
  show: { type: "string", default: "60" },
  json: { type: "string" },
}, ["CORPUS_DIR"]);
/** The folder of messages (the one argument `scriptArguments` required). */
const corpus = positionals[0]!;
const files: string[] = [];
for await (const entry of Deno.readDir(corpus)) if (entry.isFile) files.push(entry.name);
files.sort();

function normText(value: string | null | undefined, field: Field): string | null {
  if (value === null || value === undefined) return null;
  const text = value.replace(/\s+/g, " ").trim();
  if (field === "body_text") return text.slice(0, BODY_CHARS);
  if (field === "from" || field === "to") return text.toLowerCase();
  return text;
}

function addressList(list: string[]): string {
  return list.map((a) => a.toLowerCase()).join(", ");
}

async function ours(): Promise<Map<string, Values>> {
  await using dovecot = await startDovecot();
  await using redis = await startRedis();
  const client = await dovecot.client(TEST_USER);
  await client.mailboxCreate("Corpus");
  const byUid = new Map<number, string>();
  try {
    for (const name of files) {
      const raw = await Deno.readFile(`${corpus}/${name}`);
      const result = await client.append("Corpus", raw, [], new Date("2024-01-01T00:00:00Z"));
      if (result && typeof result === "object" && result.uid) byUid.set(result.uid, name);
      else console.error(`APPEND of ${name} gave no UID: skipped`);
    }
  } finally {
    await client.logout();
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      MAIN,
      "--env-file",
      "/dev/null",
      "produce",
      "--once",
      "--dry-run",
    ],
    env: {
      ...pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url, logLevel: "warn" }),
      IMAP_MAILBOX: "Corpus",
      LOG_FORMAT: "json",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (output.code !== 0) {
    throw new Error(`produce --dry-run failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  const result = new Map<string, Values>();
  let full = 0;
  for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
    if (!line.trim()) continue;
    const payload = JSON.parse(line);
    if (payload.parsed_by === "full") full++;
    const name = byUid.get(payload.uid);
    if (!name) continue;
    result.set(name, {
      subject: payload.subject,
      from: payload.from,
      to: addressList(payload.to),
      date: payload.date,
      body_text: payload.body_text,
    });
  }
  console.error(`ours: ${result.size} payloads, ${full} parsed whole (parsed_by "full")`);
  return result;
}

async function mailparserOracle(name: string): Promise<OracleRow> {
  const parsed = await simpleParser(Buffer.from(await Deno.readFile(`${corpus}/${name}`)));
  const flat = (value: unknown): string[] => {
    const objects = Array.isArray(value) ? value : value ? [value] : [];
    const out: string[] = [];
    const walk = (entry: { address?: string; group?: unknown[] }) => {
      if (entry.group) entry.group.forEach((g) => walk(g as typeof entry));
      else if (entry.address) out.push(entry.address);
    };
    for (const object of objects) for (const entry of object.value ?? []) walk(entry);
    return out;
  };
  const date = parsed.date && !Number.isNaN(parsed.date.getTime())
    ? parsed.date.toISOString()
    : null;
  const values: Values = {
    subject: parsed.subject ?? null,
    from: flat(parsed.from)[0] ?? null,
    to: addressList(flat(parsed.to)),
    date,
    body_text: parsed.text ?? "",
  };
  // The same rule as for Python: a value with U+FFFD is no clean value. mailparser also puts
  // the current time where it cannot read a Date header: that is no value either.
  const unclean = new Set(FIELDS.filter((field) => values[field]?.includes("\uFFFD")));
  if (parsed.date && Math.abs(parsed.date.getTime() - Date.now()) < 86_400_000) unclean.add("date");
  return { values, unclean };
}

async function pythonOracle(): Promise<Map<string, OracleRow>> {
  const child = new Deno.Command("python3", {
    args: [PYTHON_ORACLE],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(files.map((f) => `${corpus}/${f}\n`).join("")));
  await writer.close();
  const output = await child.output();
  const rows = new Map<string, OracleRow>();
  for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
    if (!line.trim()) continue;
    const row = JSON.parse(line);
    const name = row.file.slice(corpus!.length + 1);
    rows.set(name, {
      values: { ...row, to: row.to ? addressList(row.to) : row.to },
      unclean: new Set(row.unclean),
    });
  }
  return rows;
}

interface Disagreement {
  file: string;
  field: Field;
  oracle: string;
  ours: string | null;
  theirs: string | null;
}

const payloads = await ours();
const python = await pythonOracle();
const disagreements: Disagreement[] = [];
const counts: Record<string, Record<Field, number>> = {};
const skipped: Record<string, Record<Field, number>> = {};
let compared = 0;
for (const file of files) {
  const mine = payloads.get(file);
  if (!mine) {
    console.error(`no payload for ${file}`);
    continue;
  }
  compared++;
  let mailparser: OracleRow;
  try {
    mailparser = await mailparserOracle(file);
  } catch (error) {
    console.error(`mailparser failed on ${file}: ${error}`);
    continue;
  }
  const oracles: Array<[string, OracleRow | undefined]> = [
    ["mailparser", mailparser],
    ["python", python.get(file)],
  ];
  for (const [oracle, row] of oracles) {
    counts[oracle] ??= { subject: 0, from: 0, to: 0, date: 0, body_text: 0 };
    skipped[oracle] ??= { subject: 0, from: 0, to: 0, date: 0, body_text: 0 };
    if (!row) continue;
    for (const field of FIELDS) {
      if (row.unclean.has(field)) {
        skipped[oracle]![field]++;
        continue;
      }
      const a = normText(mine[field], field);
      const b = normText(row.values[field], field);
      if ((a ?? "") === (b ?? "")) continue;
      counts[oracle]![field]++;
      disagreements.push({ file, field, oracle, ours: a, theirs: b });
    }
  }
}

console.log(`messages compared: ${compared} of ${files.length}`);
console.log(["oracle", ...FIELDS].map((c) => c.padEnd(11)).join(""));
for (const [oracle, perField] of Object.entries(counts)) {
  console.log(
    [oracle, ...FIELDS.map((f) => String(perField[f]))].map((c) => c.padEnd(11)).join(""),
  );
}
console.log("fields skipped as not clean (exception, U+FFFD, no Date, Python: HTML-only body):");
for (const [oracle, perField] of Object.entries(skipped)) {
  console.log(
    [oracle, ...FIELDS.map((f) => String(perField[f]))].map((c) => c.padEnd(11)).join(""),
  );
}
const show = Number(values.show);
const cut = (text: string | null) =>
  text === null ? "null" : JSON.stringify(text.length > 90 ? text.slice(0, 90) + "…" : text);
console.log(`\ndisagreements (first ${show}):`);
for (const d of disagreements.slice(0, show)) {
  console.log(
    `${d.file} ${d.field} [${d.oracle}]\n  ours:   ${cut(d.ours)}\n  theirs: ${cut(d.theirs)}`,
  );
}
const out = values.json;
if (out) await Deno.writeTextFile(out, JSON.stringify({ counts, skipped, disagreements }, null, 1));
