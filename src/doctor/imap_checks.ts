/**
 * Doctor checks of the IMAP server: reachable (greeting), login with the
 * configured credentials, the capabilities `ingest` relies on, and the
 * configured mailboxes.
 *
 * @module
 */

import type { ImapFlow } from "imapflow";
import type { ImapConfig } from "../config/config.ts";
import { ImapError } from "../errors.ts";
import type { CredentialsProvider } from "../imap/credentials.ts";
import { loginImap } from "../imap/mailbox_session.ts";
import { certificateAdvice } from "../imap/imap_errors.ts";
import type { Logger } from "../log/logger.ts";
import { type CheckResult, reason, result, within } from "./check.ts";

/** Names of the IMAP checks, in report order. */
export const IMAP_CHECKS = [
  "imap.reachable",
  "imap.login",
  "imap.idle",
  "imap.condstore",
  "imap.gmail",
  "imap.mailboxes",
] as const;

/** Options of {@link checkImap}. */
export interface ImapCheckOptions {
  /** Bound on connecting and on each command. */
  timeoutMs: number;
  /**
   * Credentials to log in with; `undefined` skips the login (with
   * `skipLoginReason`), e.g. when the token checks failed.
   */
  credentials: CredentialsProvider | undefined;
  skipLoginReason?: string;
  /** Where the IMAP client logs connection errors (debug). */
  logger: Logger;
}

/** Reads the greeting and the pre-login capabilities over a raw connection. */
async function greet(
  config: ImapConfig,
  timeoutMs: number,
): Promise<{ greeting: string; capabilities: Set<string> }> {
  const connecting: Promise<Deno.Conn> = config.tls
    ? Deno.connectTls({ hostname: config.host, port: config.port })
    : Deno.connect({ hostname: config.host, port: config.port });
  let conn: Deno.Conn;
  try {
    conn = await within(timeoutMs, `connecting to ${config.host}:${config.port}`, () => connecting);
  } catch (error) {
    // A connection that completes after the deadline must not stay open.
    connecting.then((late) => late.close()).catch(() => {});
    throw error;
  }
  const decoder = new TextDecoder();
  let buffer = "";
  const lines: string[] = [];
  const readLine = async (): Promise<string> => {
    while (!buffer.includes("\r\n")) {
      const chunk = new Uint8Array(4096);
      const read = await conn.read(chunk);
      if (read === null) throw new ImapError("IMAP_CLOSED", "the server closed the connection");
      buffer += decoder.decode(chunk.subarray(0, read));
      if (buffer.length > 65_536) {
        throw new ImapError("IMAP_CONNECTION", "the server sent an overlong line");
      }
    }
    const end = buffer.indexOf("\r\n");
    const line = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    return line;
  };
  try {
    return await within(timeoutMs, "waiting for the IMAP greeting", async () => {
      const greeting = await readLine();
      if (!/^\* (OK|PREAUTH)/i.test(greeting)) {
        throw new ImapError(
          "IMAP_CONNECTION",
          `unexpected greeting ${JSON.stringify(greeting.slice(0, 200))}`,
        );
      }
      await conn.write(new TextEncoder().encode("d1 CAPABILITY\r\n"));
      for (let line = await readLine(); !line.startsWith("d1 "); line = await readLine()) {
        lines.push(line);
      }
      const text = [greeting, ...lines].join(" ");
      const found = /CAPABILITY ([^\]\r\n]*)/gi;
      const capabilities = new Set<string>();
      for (const match of text.matchAll(found)) {
        for (const word of match[1]!.split(" ")) if (word) capabilities.add(word.toUpperCase());
      }
      return { greeting, capabilities };
    });
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

/** Judges the capabilities `ingest` relies on. */
export function assessCapabilities(capabilities: ReadonlySet<string>, when: string): CheckResult[] {
  const has = (name: string) => capabilities.has(name);
  return [
    has("IDLE")
      ? result("imap.idle", "pass", `IDLE supported (${when}): new mail arrives within a second`)
      : result(
        "imap.idle",
        "fail",
        `the server does not offer IDLE (${when}): new mail would only be seen by polling`,
        "Use an IMAP server with IDLE (Gmail has it), or accept polling every POLL_INTERVAL_SECONDS.",
      ),
    has("CONDSTORE") ? result("imap.condstore", "pass", `CONDSTORE supported (${when})`) : result(
      "imap.condstore",
      "warn",
      `the server does not offer CONDSTORE (${when}): flag changes cannot be tracked cheaply`,
      "Nothing to do for ingestion; prefer a server with CONDSTORE.",
    ),
    has("X-GM-EXT-1")
      ? result(
        "imap.gmail",
        "pass",
        "Gmail extensions (X-GM-EXT-1): message ids, thread ids and labels are captured",
      )
      : result("imap.gmail", "pass", "not Gmail (no X-GM-EXT-1): the gmail_* fields stay empty"),
  ];
}

function skipFrom(name: typeof IMAP_CHECKS[number], why: string): CheckResult[] {
  return IMAP_CHECKS.slice(IMAP_CHECKS.indexOf(name)).map((n) => result(n, "skip", why));
}

/** Runs the IMAP checks; never throws, never waits longer than the timeouts. */
export async function checkImap(
  config: ImapConfig,
  options: ImapCheckOptions,
): Promise<CheckResult[]> {
  const target = `${config.host}:${config.port} (${config.tls ? "TLS" : "plaintext"})`;
  try {
    await greet(config, options.timeoutMs);
  } catch (error) {
    return [
      result(
        "imap.reachable",
        "fail",
        `cannot talk IMAP to ${target}: ${reason(error)}`,
        certificateAdvice(error) ??
          "Check IMAP_HOST, IMAP_PORT and IMAP_TLS (Gmail: imap.gmail.com, 993, true) and the firewall.",
      ),
      ...skipFrom("imap.login", "the IMAP server is unreachable"),
    ];
  }
  const results = [result("imap.reachable", "pass", `IMAP greeting received from ${target}`)];
  // Servers advertise only part of their capabilities before login (Dovecot and Gmail list
  // CONDSTORE after it), so without a login the capability checks are skipped, not guessed.
  if (options.credentials === undefined) {
    const why = options.skipLoginReason ?? "no credentials";
    return [...results, ...skipFrom("imap.login", `skipped: ${why}`)];
  }

  const credentials = options.credentials;
  let client: ImapFlow | undefined;
  try {
    client = await logIn(config, credentials, options);
    const how = config.auth === "oauth2" ? "OAuth2" : "a password";
    results.push(result("imap.login", "pass", `logged in as ${credentials.account} with ${how}`));
    await checkLoggedIn(client, config, options.timeoutMs, results);
    return results;
  } catch (error) {
    return [...results, ...failedFrom(results, error, config, credentials.account)];
  } finally {
    client?.close();
  }
}

/**
 * The producer's own login (with its one OAuth2 refresh on a rejected token),
 * so doctor judges exactly what `ingest produce` will do; bounded, and a login
 * that completes after the deadline does not stay open.
 */
async function logIn(
  config: ImapConfig,
  credentials: CredentialsProvider,
  options: ImapCheckOptions,
): Promise<ImapFlow> {
  const connecting = loginImap({
    server: { host: config.host, port: config.port, secure: config.tls },
    credentials,
    logger: options.logger,
    connectTimeoutMs: options.timeoutMs,
    socketTimeoutMs: options.timeoutMs * 3,
  });
  connecting.catch(() => {});
  try {
    // Twice the bound: getting (maybe refreshing) the credentials, then connecting.
    return await within(options.timeoutMs * 2, "logging in", () => connecting);
  } catch (error) {
    connecting.then((late) => late.close()).catch(() => {});
    throw error;
  }
}

/** The checks after login: capabilities, then the configured mailboxes; pushes onto `results`. */
async function checkLoggedIn(
  imap: ImapFlow,
  config: ImapConfig,
  timeoutMs: number,
  results: CheckResult[],
): Promise<void> {
  const capabilities = new Set([...imap.capabilities.keys()].map((c) => c.toUpperCase()));
  results.push(...assessCapabilities(capabilities, "after login"));
  const missing: string[] = [];
  for (const mailbox of config.mailboxes) {
    const status = await within(
      timeoutMs,
      `STATUS ${mailbox}`,
      () => imap.status(mailbox, { messages: true }).catch(() => false as const),
    );
    if (status === false) missing.push(mailbox);
  }
  results.push(
    missing.length === 0
      ? result("imap.mailboxes", "pass", `mailboxes exist: ${config.mailboxes.join(", ")}`)
      : result(
        "imap.mailboxes",
        "fail",
        `mailboxes not found: ${missing.join(", ")}`,
        "Set IMAP_MAILBOX to existing mailboxes (Gmail: INBOX, [Gmail]/All Mail, ...).",
      ),
  );
  await within(timeoutMs, "LOGOUT", () => imap.logout()).catch(() => {});
}

/** The results after `error`: a failed login skips the rest; a later failure fails the rest. */
function failedFrom(
  done: readonly CheckResult[],
  error: unknown,
  config: ImapConfig,
  account: string,
): CheckResult[] {
  if (done.length === 1) {
    return [
      result(
        "imap.login",
        "fail",
        `login as ${account} failed: ${reason(error)}`,
        config.auth === "oauth2"
          ? "Check that IMAP is enabled for the account, or run ingest auth setup again."
          : "Check IMAP_USER and IMAP_PASSWORD (Gmail needs an app password or OAuth2).",
      ),
      ...skipFrom("imap.idle", "skipped: login failed"),
    ];
  }
  const checked = new Set(done.map((r) => r.name));
  return IMAP_CHECKS.filter((n) => !checked.has(n)).map((n) =>
    result(
      n,
      "fail",
      `the server stopped answering: ${reason(error)}`,
      "Run ingest doctor again; check the server.",
    )
  );
}
