/**
 * `ingest stream peek`: entries with their payloads, read-only (XRANGE /
 * XREVRANGE: no consumer group is read from or acknowledged).
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { UsageError } from "../../src/errors.ts";
import type { PeekedEntry } from "../../src/stream/peek.ts";
import type { App } from "../app.ts";
import { flagSettings, settingOption } from "../setting_option.ts";
import { wholeNumberProblem } from "../whole_number.ts";
import { examples, printResult } from "./common.ts";

const STREAM_ID = /^(-|\d+(-\d+)?)$/;

function peekText(entry: PeekedEntry): string {
  const head = `${entry.id}  type=${entry.type ?? "-"}  key=${entry.idempotencyKey ?? "-"}`;
  const payload = entry.payload;
  let body: string;
  if (payload !== null && typeof payload === "object") {
    const p = payload as Record<string, unknown>;
    const fields = entry.type === "email"
      ? ["mailbox", "uid", "from", "subject", "date", "size"]
      : Object.keys(p);
    body = fields.map((name) => `  ${name}: ${JSON.stringify(p[name] ?? null)}`).join("\n");
  } else {
    body = `  payload: ${JSON.stringify(payload)}`;
  }
  const problem = entry.problem === null ? "" : `\n  problem: ${entry.problem}`;
  return `${head}\n${body}${problem}\n`;
}

/** Builds `stream peek`. */
export function streamPeekCommand(app: App): Command {
  return new Command("peek")
    .description("Show entries with their payloads without touching any consumer group")
    .option("--count <n>", "how many entries", "10")
    .option("--from <id>", "read forward from this entry id ('-' = the first); default: the newest")
    .option("--json", "print JSON (whole payloads)")
    .addOption(settingOption("REDIS_STREAM_NAME", "stream to read"))
    .addHelpText(
      "after",
      examples(
        "ingest stream peek",
        "ingest stream peek --count 3 --json | jq '.entries[].payload.subject'",
        "ingest stream peek --from - --count 100",
      ) + "\nRead-only: workers still receive every entry shown here.\n",
    )
    .action(async (options) => {
      const problems: string[] = [];
      const countProblem = wholeNumberProblem("--count", options.count, { min: 1 });
      if (countProblem !== undefined) problems.push(countProblem);
      if (options.from !== undefined && !STREAM_ID.test(options.from)) {
        problems.push(`--from must be a stream id like 1700000000000-0 or -: "${options.from}"`);
      }
      if (problems.length > 0) throw new UsageError(`Cannot peek: ${problems.join("; ")}`);
      const config = await app.config(flagSettings(options, ["REDIS_STREAM_NAME"]));
      const redis = await app.redis(config, "ingest:peek");
      const { peekPartitions } = await import("../../src/stream/peek.ts");
      const { streamPartitionsOf } = await import("../../src/stream/partition_set.ts");
      const entries = await peekPartitions(redis, streamPartitionsOf(config.redis), {
        count: Number(options.count),
        from: options.from,
      });
      const json = {
        stream: config.redis.streamName,
        entries: entries.map((e) => ({
          id: e.id,
          type: e.type,
          idempotency_key: e.idempotencyKey,
          payload: e.payload,
          problem: e.problem,
          partition: e.partition,
        })),
      };
      printResult(
        app,
        options.json,
        json,
        () =>
          entries.length === 0
            ? `No entries in ${config.redis.streamName}.\n`
            : entries.map(peekText).join(""),
      );
    });
}
