/**
 * The request handler behind {@link startHealthServer}: `/health`, `/ready`,
 * `/status` and `/metrics`, each bounded so a hung Redis or IMAP cannot hang
 * a probe.
 *
 * @module
 */

import { withDeadline } from "../async/deadline.ts";
import { describeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { VERSION } from "../version.ts";
import { HEALTH_PATHS } from "./ports.ts";
import type { HealthServerOptions } from "./server.ts";

/** What the handler answers from. */
export interface HealthContext extends Pick<HealthServerOptions, "registry" | "ready" | "status"> {
  /** The server's logger. */
  readonly log: Logger;
  /** Longest `/ready` and `/status` wait. */
  readonly timeoutMs: number;
  /** Clock in ms. */
  readonly now: () => number;
  /** When the server started (ms), for `uptime_seconds` and `started_at`. */
  readonly startedAt: number;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

/** The handler of every health endpoint. */
export function healthHandler(context: HealthContext): (request: Request) => Promise<Response> {
  return async (request: Request): Promise<Response> => {
    const { pathname } = new URL(request.url);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return json({ error: "only GET and HEAD are supported" }, 405, { allow: "GET, HEAD" });
    }
    switch (pathname) {
      case "/health":
        return json({ status: "ok" }, 200);
      case "/ready":
        return await readyResponse(context);
      case "/status":
        return await statusResponse(context);
      case "/metrics":
        return await metricsResponse(context);
      default:
        return json(
          { error: "not found", endpoints: HEALTH_PATHS },
          404,
        );
    }
  };
}

async function readyResponse(context: HealthContext): Promise<Response> {
  try {
    const readiness = await withDeadline(context.ready(), context.timeoutMs, "readiness check");
    return json(
      { ready: readiness.ready, checks: readiness.checks ?? {} },
      readiness.ready ? 200 : 503,
    );
  } catch (error) {
    context.log.warn("readiness check failed", { error: describeError(error) });
    return json({ ready: false, error: describeError(error) }, 503);
  }
}

async function statusResponse(context: HealthContext): Promise<Response> {
  const base = {
    version: VERSION,
    uptime_seconds: Math.round((context.now() - context.startedAt) / 1000),
    started_at: new Date(context.startedAt).toISOString(),
  };
  try {
    const extra = context.status
      ? await withDeadline(context.status(), context.timeoutMs, "status report")
      : {};
    const body = extra !== null && typeof extra === "object" && !Array.isArray(extra)
      ? { ...base, ...extra }
      : { ...base, status: extra };
    return json(body, 200);
  } catch (error) {
    context.log.warn("status report failed", { error: describeError(error) });
    return json({ ...base, error: describeError(error) }, 500);
  }
}

async function metricsResponse(context: HealthContext): Promise<Response> {
  try {
    const text = await context.registry.metrics();
    return new Response(text, { headers: { "content-type": context.registry.contentType } });
  } catch (error) {
    context.log.warn("metrics collection failed", { error: describeError(error) });
    return new Response(`# metrics collection failed: ${describeError(error)}\n`, {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
}
/** A JSON response that no cache keeps. */
export function json(
  body: unknown,
  status: number,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { ...JSON_HEADERS, "cache-control": "no-store", ...headers },
  });
}
