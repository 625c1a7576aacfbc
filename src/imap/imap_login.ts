/**
 * Logging in to the IMAP server: password or OAuth2 (refreshed once when the
 * server rejects a token), shared by the producer's sessions and `ingest doctor`.
 *
 * @module
 */

import { ImapFlow } from "imapflow";
import { AuthError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { CredentialsProvider, ImapCredentials } from "./credentials.ts";
import { classifyImapFailure, toImapError } from "./imap_errors.ts";

/** Where the IMAP server is. */
export interface ImapServer {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS. */
  readonly secure: boolean;
}

/** What {@link loginImap} needs: where, who, and how long to wait. */
export type ImapLoginOptions = {
  readonly server: ImapServer;
  readonly credentials: CredentialsProvider;
  readonly logger: Logger;
  /** Socket inactivity before imapflow probes the connection (a backstop). Default 5 min. */
  readonly socketTimeoutMs?: number;
  /** Longest wait for the TCP/TLS connection. Default 30 s. */
  readonly connectTimeoutMs?: number;
  /** ENABLE QRESYNC when offered (change tracking: VANISHED instead of EXPUNGE). Default false. */
  readonly qresync?: boolean;
};

/**
 * Connects and logs in, refreshing an OAuth2 token once when the server
 * rejects it; the producer's sessions and `ingest doctor` log in through it.
 * The caller closes the returned client.
 */
export async function loginImap(options: ImapLoginOptions): Promise<ImapFlow> {
  for (let attempt = 0;; attempt++) {
    const credentials = await options.credentials.get({ forceRefresh: attempt > 0 });
    const client = new ImapFlow({
      host: options.server.host,
      port: options.server.port,
      secure: options.server.secure,
      auth: authOptions(credentials),
      logger: false,
      // IDLE is entered explicitly between sync rounds, never behind our back.
      disableAutoIdle: true,
      socketTimeout: options.socketTimeoutMs ?? 5 * 60_000,
      connectionTimeout: options.connectTimeoutMs ?? 30_000,
      clientInfo: { name: "ingest" },
      qresync: options.qresync ?? false,
    });
    // imapflow emits 'error' for connection failures; without a listener it would throw.
    client.on("error", (error: unknown) => {
      options.logger.debug("imap connection error", { error: String(error) });
    });
    try {
      await client.connect();
      return client;
    } catch (error) {
      client.close();
      if (classifyImapFailure(error) !== "auth") throw toImapError(error, "connect");
      // An OAuth2 access token may be revoked before its expiry: refresh once and retry.
      if (attempt === 0 && "accessToken" in credentials) continue;
      // Not retryable: the same credentials fail the same way (and repeated bad logins can
      // get an account locked). The producer parks the account until they change.
      throw new AuthError(
        "IMAP_LOGIN_REJECTED",
        "accessToken" in credentials
          ? "The IMAP server rejected the OAuth2 login even with a freshly refreshed token: " +
            "check that IMAP is enabled for the account (Gmail: Settings > Forwarding and " +
            "POP/IMAP), or run `ingest auth setup` again."
          : "The IMAP server rejected the login of IMAP_USER with IMAP_PASSWORD: set the right " +
            "password (Gmail needs an app password, or IMAP_AUTH=oauth2) and start again.",
        { cause: error },
      );
    }
  }
}

function authOptions(credentials: ImapCredentials) {
  return "accessToken" in credentials
    ? { user: credentials.user, accessToken: credentials.accessToken }
    : { user: credentials.user, pass: credentials.pass };
}
