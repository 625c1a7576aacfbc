/**
 * `--sink module:PATH`: a TypeScript or JavaScript module loaded with a
 * dynamic `import()`, called in-process for each entry.
 *
 * The module exports `handle(email, context)` (may be async) for `email`
 * entries, and optionally `handleMailboxReset(reset, context)` for
 * `mailbox_reset` control entries and `handleEvent(event, context)` for
 * `message_updated` / `message_deleted` entries (`event.type` says which;
 * each is acknowledged without a call when its handler is absent).
 * Throwing the `PermanentError` exported by `mod.ts` sends the entry straight
 * to the dead-letter queue; any other error is retried with backoff.
 *
 * @example
 * ```ts
 * // handler.ts — run with: ingest work --sink module:./handler.ts
 * import { PermanentError } from "./mod.ts";
 * export async function handle(email, context) {
 *   if (email.subject === null) throw new PermanentError("no subject: cannot route");
 *   await fetch("https://crm.internal/emails", {
 *     method: "POST",
 *     headers: { "idempotency-key": context.idempotencyKey },
 *     body: JSON.stringify(email),
 *   });
 * }
 * ```
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../errors.ts";
import type {
  EmailPayload,
  MailboxResetPayload,
  MessageDeletedPayload,
  MessageUpdatedPayload,
} from "../stream/entry.ts";
import type { Sink } from "./sink.ts";

/** The second argument of a module's handlers. */
export interface HandlerContext {
  /** Stream entry id. */
  readonly id: string;
  /** Stable across retries and re-deliveries: pass it downstream to deduplicate. */
  readonly idempotencyKey: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted when the worker stops waiting (shutdown timeout). */
  readonly signal: AbortSignal;
}

/** A change event as `handleEvent` receives it. */
export type ChangeEvent =
  | { readonly type: "message_updated"; readonly payload: MessageUpdatedPayload }
  | { readonly type: "message_deleted"; readonly payload: MessageDeletedPayload };

/** What a handler module exports. */
export interface HandlerModule {
  handle(email: EmailPayload, context: HandlerContext): unknown;
  handleMailboxReset?(reset: MailboxResetPayload, context: HandlerContext): unknown;
  /** `message_updated` / `message_deleted` entries (`--events updated,deleted`). */
  handleEvent?(event: ChangeEvent, context: HandlerContext): unknown;
}

/** Imports the handler module at `path` (relative to `cwd`) and returns the sink. */
export async function createModuleSink(path: string, cwd = Deno.cwd()): Promise<Sink> {
  const url = pathToFileURL(isAbsolute(path) ? path : resolve(cwd, path)).href;
  let loaded: Record<string, unknown>;
  try {
    loaded = await import(url);
  } catch (error) {
    throw new UsageError(
      `Cannot load the sink module ${path}: ${(error as Error).message}. ` +
        "Check the path and that the module compiles.",
      { cause: error },
    );
  }
  if (typeof loaded.handle !== "function") {
    throw new UsageError(
      `Cannot use ${path} as a sink: it must export a function handle(email, context)`,
    );
  }
  const module = loaded as unknown as HandlerModule;
  return {
    kind: "module",
    async handle(delivery) {
      const context: HandlerContext = {
        id: delivery.id,
        idempotencyKey: delivery.idempotencyKey,
        attempt: delivery.attempt,
        signal: delivery.signal,
      };
      if (delivery.type === "email") {
        await module.handle(delivery.payload as EmailPayload, context);
      } else if (delivery.type === "mailbox_reset") {
        await module.handleMailboxReset?.(delivery.payload as MailboxResetPayload, context);
      } else {
        await module.handleEvent?.(
          { type: delivery.type, payload: delivery.payload } as ChangeEvent,
          context,
        );
      }
    },
    close: () => Promise.resolve(),
  };
}
