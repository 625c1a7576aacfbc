/**
 * A webhook receiver on a loopback port that fails on purpose: it answers
 * some requests with 500, answers others only after the sender has given up
 * (slower than the sink timeout), verifies every `X-Ingest-Signature`, and
 * records each request's `Idempotency-Key` and `X-Ingest-Attempt`, so a fault
 * scenario can count deliveries per key from what really arrived.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { random } from "./fuzz.ts";

/** How one request was answered. */
export type ReceiverOutcome =
  /** 2xx in time: the sender saw a success. */
  | "ok"
  /** HTTP 500. */
  | "error"
  /** 200, but only after `slowMs` (the sender has timed out by then). */
  | "slow";

/** One request the receiver got. */
export interface ReceivedRequest {
  readonly idempotencyKey: string;
  /** `X-Ingest-Attempt` as sent (NaN when missing). */
  readonly attempt: number;
  readonly entryId: string;
  /** Whether `X-Ingest-Signature` is the HMAC-SHA256 of the raw body under the secret. */
  readonly signatureOk: boolean;
  readonly outcome: ReceiverOutcome;
  /** ms since the receiver started. */
  readonly at: number;
}

/** Options of {@link startFlakyReceiver}. */
export interface FlakyReceiverOptions {
  /** The `WEBHOOK_SECRET` the sender signs with. */
  secret: string;
  /** Share of requests answered 500. Default 0. */
  failRate?: number;
  /** Share of requests answered after `slowMs`. Default 0. */
  slowRate?: number;
  /** Delay of a slow answer, ms. Default 2000. */
  slowMs?: number;
  /** Latency of every other answer, ms (a slow-ish receiver). Default 0. */
  delayMs?: number;
  /** Seed of the choice of failing requests. Default 1. */
  seed?: number;
}

/** A running receiver. */
export interface FlakyReceiver extends AsyncDisposable {
  /** `http://127.0.0.1:<port>/hook`. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  /** Changes the failure shares from now on (e.g. to end a fault). */
  setRates(rates: { failRate?: number; slowRate?: number }): void;
  close(): Promise<void>;
}

/** Starts a receiver on an ephemeral loopback port. */
export function startFlakyReceiver(options: FlakyReceiverOptions): FlakyReceiver {
  const rng = random(options.seed ?? 1);
  let failRate = options.failRate ?? 0;
  let slowRate = options.slowRate ?? 0;
  const requests: ReceivedRequest[] = [];
  const started = performance.now();
  const controller = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: controller.signal,
    onListen: () => {},
  }, async (request) => {
    const body = await request.text();
    const roll = rng();
    const outcome: ReceiverOutcome = roll < failRate
      ? "error"
      : roll < failRate + slowRate
      ? "slow"
      : "ok";
    requests.push({
      idempotencyKey: request.headers.get("idempotency-key") ?? "",
      attempt: Number(request.headers.get("x-ingest-attempt") ?? Number.NaN),
      entryId: request.headers.get("x-ingest-entry-id") ?? "",
      signatureOk: signatureMatches(
        options.secret,
        body,
        request.headers.get("x-ingest-signature"),
      ),
      outcome,
      at: performance.now() - started,
    });
    const wait = outcome === "slow" ? options.slowMs ?? 2_000 : options.delayMs ?? 0;
    if (wait > 0) await sleep(wait, controller.signal);
    return outcome === "error"
      ? new Response("flaky receiver: failing on purpose", { status: 500 })
      : new Response("ok");
  });
  const close = async () => {
    controller.abort();
    await server.finished.catch(() => {});
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    requests,
    setRates(rates) {
      failRate = rates.failRate ?? failRate;
      slowRate = rates.slowRate ?? slowRate;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Whether `header` is `sha256=<hex HMAC-SHA256 of body under secret>`. */
export function signatureMatches(secret: string, body: string, header: string | null): boolean {
  if (header === null || !header.startsWith("sha256=")) return false;
  const expected = createHmac("sha256", secret).update(body, "utf8").digest();
  const given = Uint8Array.from(
    header.slice(7).match(/../g) ?? [],
    (hex) => Number.parseInt(hex, 16),
  );
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
