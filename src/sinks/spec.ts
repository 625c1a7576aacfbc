/**
 * The `--sink` flag: `stdout`, `file:PATH`, `webhook:URL`, `exec:COMMAND` or
 * `module:PATH`, parsed into a {@link SinkSpec} and opened as a {@link Sink}.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { createExecSink } from "./exec_sink.ts";
import { createFileSink, type FileSinkPageCache } from "./file_sink.ts";
import { createModuleSink } from "./module_sink.ts";
import type { Sink } from "./sink.ts";
import { createStdoutSink } from "./stdout_sink.ts";
import { createWebhookSink } from "./webhook_sink.ts";

/** A parsed `--sink` value. */
export type SinkSpec =
  | { readonly kind: "stdout" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "webhook"; readonly url: string }
  | { readonly kind: "exec"; readonly command: string }
  | { readonly kind: "module"; readonly path: string };

const FORMS = "stdout, file:PATH, webhook:URL, exec:COMMAND or module:PATH";

/** Parses a `--sink` value, or throws a {@link UsageError} saying what is accepted. */
export function parseSinkSpec(raw: string): SinkSpec {
  const text = raw.trim();
  if (text === "stdout") return { kind: "stdout" };
  const colon = text.indexOf(":");
  const kind = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? "" : text.slice(colon + 1).trim();
  const fail = (why: string) => new UsageError(`--sink ${why}: current value is "${raw}"`);
  switch (kind) {
    case "file":
    case "module":
      if (rest === "") throw fail(`${kind}: needs a path, e.g. ${kind}:./out`);
      return { kind, path: rest };
    case "exec":
      if (rest === "") throw fail("exec: needs a command, e.g. exec:'jq -c .payload.uid'");
      return { kind, command: rest };
    case "webhook": {
      if (!isHttpUrl(rest)) throw fail("webhook: needs an http(s) URL");
      return { kind, url: rest };
    }
    default:
      throw fail(`must be one of ${FORMS}`);
  }
}

function isHttpUrl(text: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** What opening a sink may need besides its spec. */
export interface OpenSinkOptions {
  /** Where the stdout sink writes (the process's stdout). */
  stdout: (text: string) => void;
  /** `WEBHOOK_SECRET`: signs webhook bodies. */
  webhookSecret: string | undefined;
  /** Webhook response timeout in ms. Default 10000. */
  webhookTimeoutMs?: number;
  /** Base directory of relative `module:` paths. Default the current directory. */
  cwd?: string;
  /** The process environment; an `exec:` command sees only its allow-list. Default `{}`. */
  env?: Readonly<Record<string, string>>;
  /** `EXEC_SINK_ENV`: further variables an `exec:` command sees. Default none. */
  execSinkEnv?: readonly string[];
  /** `FILE_SINK_PAGE_CACHE`: what a `file:` sink's synced pages become. Default `drop`. */
  fileSinkPageCache?: FileSinkPageCache;
}

/** Opens the sink a spec describes (opens the file, imports the module, ...). */
export async function openSink(spec: SinkSpec, options: OpenSinkOptions): Promise<Sink> {
  switch (spec.kind) {
    case "stdout":
      return createStdoutSink(options.stdout);
    case "file":
      try {
        return await createFileSink(spec.path, { pageCache: options.fileSinkPageCache });
      } catch (error) {
        throw new UsageError(
          `Cannot open the sink file ${spec.path}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    case "webhook":
      return createWebhookSink({
        url: spec.url,
        secret: options.webhookSecret,
        timeoutMs: options.webhookTimeoutMs,
      });
    case "exec":
      return createExecSink({
        command: spec.command,
        parentEnv: options.env,
        pass: options.execSinkEnv,
      });
    case "module":
      return await createModuleSink(spec.path, options.cwd);
  }
}
