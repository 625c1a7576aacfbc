/**
 * What an IMAP failure means for the producer: reconnect soon, back off long
 * (Gmail's `[THROTTLED]` / `[OVERQUOTA]`, other servers' throttling), stop
 * for this account (credentials that only `ingest auth setup` can fix), or a
 * refusal of one command that leaves the connection usable.
 *
 * @module
 */

import { AuthError, type ErrorCode, ImapError, IngestError } from "../errors.ts";

/** How to react to an IMAP error. */
export type ImapFailureKind = "transient" | "throttled" | "auth" | "refused";

/** The fields imapflow puts on its errors (all optional). */
interface ImapFlowErrorLike {
  code?: string;
  responseStatus?: string;
  responseText?: string;
  serverResponseCode?: string;
  authenticationFailed?: boolean;
  /** Set by imapflow when SELECT/EXAMINE found no such mailbox. */
  mailboxMissing?: boolean;
  reason?: string;
}

/** The raw imapflow error behind `error`, if any. */
function imapDetails(error: unknown): ImapFlowErrorLike & { message: string } {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const raw = current as Error & ImapFlowErrorLike;
    if (current instanceof IngestError) {
      current = current.cause; // our wrapper: the server's details are underneath
      continue;
    }
    if (
      raw.responseStatus || raw.responseText || raw.serverResponseCode ||
      raw.authenticationFailed || raw.code
    ) {
      return raw;
    }
    current = current.cause;
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

/** Classifies an error thrown while talking IMAP. */
export function classifyImapFailure(error: unknown): ImapFailureKind {
  if (error instanceof AuthError) return "auth";
  if (error instanceof ImapError) {
    const known = KIND_BY_CODE[error.code];
    if (known) return known;
  }
  const details = imapDetails(error);
  const text = [
    details.serverResponseCode,
    details.responseText,
    details.reason,
    details.message,
    error instanceof Error ? error.message : "",
  ].join(" ");
  // Gmail: "NO [THROTTLED] ...", "NO [OVERQUOTA] Account exceeded command or bandwidth limits",
  // "[ALERT] Too many simultaneous connections"; RFC 5530: "[LIMIT]".
  if (
    /\[(THROTTLED|OVERQUOTA|LIMIT)\]|\b(THROTTLED|OVERQUOTA)\b/.test(text) ||
    /too many simultaneous connections|bandwidth limits/i.test(text)
  ) {
    return "throttled";
  }
  if (details.code === "ETHROTTLE") return "throttled";
  if (details.authenticationFailed || /AUTHENTICATIONFAILED/i.test(text)) return "auth";
  if (details.responseStatus === "NO" || details.responseStatus === "BAD") return "refused";
  return "transient";
}

/** Whether the server said the mailbox does not exist (RFC 5530 `[NONEXISTENT]`). */
export function isMissingMailbox(error: unknown): boolean {
  const details = imapDetails(error);
  return details.mailboxMissing === true ||
    details.serverResponseCode?.toUpperCase() === "NONEXISTENT" ||
    /\[NONEXISTENT\]/i.test(details.responseText ?? "");
}

const KIND_BY_CODE: Partial<Record<ErrorCode, ImapFailureKind>> = {
  IMAP_THROTTLED: "throttled",
  IMAP_REFUSED: "refused",
  IMAP_LOGIN_REJECTED: "auth",
};

/** Wraps any IMAP failure as an {@link ImapError} that keeps the server's words. */
export function toImapError(error: unknown, doing: string): ImapError | AuthError {
  if (error instanceof ImapError || error instanceof AuthError) return error;
  const details = imapDetails(error);
  const server = details.responseText ? ` (server said: ${details.responseText})` : "";
  const kind = classifyImapFailure(error);
  const code: ErrorCode = kind === "throttled"
    ? "IMAP_THROTTLED"
    : kind === "refused"
    ? "IMAP_REFUSED"
    : kind === "auth"
    ? "IMAP_LOGIN_REJECTED"
    : "IMAP_CONNECTION";
  const advice = certificateAdvice(details);
  const hint = advice === undefined ? "" : `. ${advice}`;
  return new ImapError(code, `IMAP ${doing} failed: ${details.message}${server}${hint}`, {
    cause: error,
  });
}

/**
 * Node's codes (imapflow's socket; Deno's node:tls gives the same) and
 * rustls' reasons (`Deno.connectTls`: "invalid peer certificate: …") for a
 * server certificate no trusted CA signed.
 */
const UNTRUSTED_CERTIFICATE =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE)$|invalid peer certificate: (UnknownIssuer|BadSignature)/;
const CERTIFICATE_FOR_ANOTHER_NAME =
  /^(ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)$|invalid peer certificate: NotValidForName/;
const CERTIFICATE_OUT_OF_DATE =
  /^(CERT_HAS_EXPIRED|CERT_NOT_YET_VALID)$|invalid peer certificate: (Expired|NotValidYet)/;

/**
 * What to do about a TLS certificate the connection refused, from the
 * error's code or message; `undefined` when `error` is not about one.
 */
export function certificateAdvice(error: unknown): string | undefined {
  const raw = error as { code?: unknown; message?: unknown } | null | undefined;
  const code = typeof raw?.code === "string" ? raw.code : "";
  const message = typeof raw?.message === "string" ? raw.message : String(error);
  const about = (pattern: RegExp) => pattern.test(code) || pattern.test(message);
  if (about(UNTRUSTED_CERTIFICATE)) {
    return "The server's TLS certificate is not signed by a CA this machine trusts: if the " +
      "server (or a TLS-inspecting proxy) uses a private CA, start ingest with " +
      "DENO_CERT=/path/to/ca.pem (its PEM certificate).";
  }
  if (about(CERTIFICATE_FOR_ANOTHER_NAME)) {
    return "The server's TLS certificate is for another name: set IMAP_HOST to the name it " +
      "was issued for (imap.gmail.com for Gmail).";
  }
  if (about(CERTIFICATE_OUT_OF_DATE)) {
    return "The server's TLS certificate is outside its validity dates: check this " +
      "machine's clock, then the server's certificate.";
  }
  return undefined;
}

/** The error of a connection the watchdog closed: silent for `silentMs` while `command` waited. */
export function stallError(command: string, silentMs: number, timeoutMs: number): ImapError {
  return new ImapError(
    "IMAP_STALLED",
    `The IMAP server sent nothing for ${
      Math.round(silentMs / 1000)
    } s while ${command} waited for its answer (IMAP_COMMAND_TIMEOUT_SECONDS=${
      Math.round(timeoutMs / 1000)
    }): closing the connection and reconnecting.`,
  );
}
