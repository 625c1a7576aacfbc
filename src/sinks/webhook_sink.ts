/**
 * `--sink webhook:URL`: an HTTP POST of the JSON document per entry.
 *
 * Headers: `Content-Type: application/json`, `Idempotency-Key` (the entry's
 * idempotency key, the same on every retry and re-delivery),
 * `X-Ingest-Entry-Id`, `X-Ingest-Attempt`, `User-Agent: ingest/<version>` and,
 * when `WEBHOOK_SECRET` is set,
 * `X-Ingest-Signature: sha256=<hex HMAC-SHA256 of the raw body>` (see
 * docs/DELIVERY.md for verification).
 *
 * Verdicts: 2xx acknowledges; 408, 429, 5xx, timeouts and network errors are
 * retried; any other status (other 4xx, and redirects, which are not
 * followed) is permanent: the entry goes to the DLQ.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import { PermanentError, RetryableError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { deliveryJson, type Sink } from "./sink.ts";

/** The `User-Agent` of every webhook call, so receivers can tell ingest (and its version) apart. */
export const WEBHOOK_USER_AGENT = `ingest/${VERSION}`;

/** Options of {@link createWebhookSink}. */
export interface WebhookSinkOptions {
  /** Receiver URL (http or https). */
  url: string;
  /** HMAC key of `X-Ingest-Signature`; no signature header when undefined. */
  secret: string | undefined;
  /** Longest wait for a response, in ms. Default 10000. */
  timeoutMs?: number;
}

/** The `X-Ingest-Signature` value of `body` under `secret`: `sha256=<hex>`. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

/** Whether an HTTP status is worth retrying (408, 429 and every 5xx). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** A sink that POSTs each entry to `options.url`. */
export function createWebhookSink(options: WebhookSinkOptions): Sink {
  const timeoutMs = options.timeoutMs ?? 10_000;
  // Only the origin goes into messages: a URL path or query may carry a token.
  const target = new URL(options.url).origin;
  return {
    kind: "webhook",
    async handle(delivery) {
      const body = deliveryJson(delivery);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": WEBHOOK_USER_AGENT,
        "idempotency-key": delivery.idempotencyKey,
        "x-ingest-event-type": delivery.type,
        "x-ingest-entry-id": delivery.id,
        "x-ingest-attempt": String(delivery.attempt),
      };
      if (options.secret !== undefined) {
        headers["x-ingest-signature"] = webhookSignature(options.secret, body);
      }
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: "POST",
          headers,
          body,
          // A redirect would turn the POST into a GET without body: report it instead.
          redirect: "manual",
          signal: AbortSignal.any([delivery.signal, AbortSignal.timeout(timeoutMs)]),
        });
      } catch (error) {
        const reason = error instanceof DOMException && error.name === "TimeoutError"
          ? `no response within ${timeoutMs} ms`
          : "request failed";
        throw new RetryableError(`webhook ${target}: ${reason}`, { cause: error });
      }
      // The body is not needed; cancel it so the connection is released.
      await response.body?.cancel().catch(() => {});
      if (response.ok) return;
      const message = `webhook ${target} answered HTTP ${response.status}`;
      if (isRetryableStatus(response.status)) throw new RetryableError(message);
      if (response.status >= 300 && response.status < 400) {
        throw new PermanentError(`${message} (a redirect): point the webhook at the final URL`);
      }
      throw new PermanentError(`${message} (a 4xx other than 408/429 is not retried)`);
    },
    close: () => Promise.resolve(),
  };
}
