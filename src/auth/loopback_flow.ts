/**
 * The installed-app loopback flow (Google retired the out-of-band flow): a
 * one-shot HTTP listener on 127.0.0.1 with an ephemeral port is the
 * redirect URI; PKCE (S256) and a random `state` protect the exchange. On a
 * headless server the user may instead paste the address the browser was
 * redirected to; whichever arrives first wins.
 *
 * Nothing is stored here: the caller stores the returned grant, so a failed
 * flow leaves nothing behind.
 *
 * @module
 */

import { AuthError } from "../errors.ts";
import { GMAIL_SCOPE, type OAuthClient, type TokenGrant } from "./oauth_client.ts";
import { encodeBase64Url } from "./token_crypto.ts";

/** Options of {@link runLoopbackFlow}. */
export interface LoopbackFlowOptions {
  /** OAuth2 client. */
  client: OAuthClient;
  /** Expected account: pre-selected on the consent screen and checked afterwards. */
  account?: string | undefined;
  /** How long to wait for the consent. */
  timeoutMs: number;
  /** Aborts the wait (Ctrl-C). */
  signal?: AbortSignal;
  /** Receives the consent URL and the redirect URI once the listener is ready. */
  onUrl: (url: string, redirectUri: string) => void;
  /**
   * Reads a line the user pasted (the final redirect address); `null` at end
   * of input. When given, pasted lines race the loopback callback.
   */
  readLine?: () => Promise<string | null>;
  /** Told when a pasted line is not a redirect address (the flow keeps waiting). */
  onRejectedLine?: (message: string) => void;
}

/** The outcome of a completed consent. */
export interface LoopbackResult {
  /** The account's address, from the userinfo endpoint. */
  readonly account: string;
  readonly grant: TokenGrant & { readonly refreshToken: string };
}

/** What the redirect carried: an authorization code, or why there is none. */
export type CallbackOutcome =
  | { readonly kind: "code"; readonly code: string }
  | { readonly kind: "error"; readonly error: AuthError };

/**
 * Reads a redirect's query parameters. Returns `undefined` when they are not
 * an OAuth redirect at all (no `code`, `error` or `state`).
 */
export function parseCallback(
  params: URLSearchParams,
  expectedState: string,
): CallbackOutcome | undefined {
  const code = params.get("code");
  const error = params.get("error");
  const state = params.get("state");
  if (code === null && error === null && state === null) return undefined;
  if (state !== expectedState) {
    return {
      kind: "error",
      error: new AuthError(
        "SETUP_STATE_MISMATCH",
        "The consent redirect carried a wrong `state`: it does not belong to this setup " +
          "(an old browser tab, or a forged request). Nothing was stored; run `ingest auth setup` again.",
      ),
    };
  }
  if (error !== null) {
    const denied = error === "access_denied";
    return {
      kind: "error",
      error: new AuthError(
        denied ? "SETUP_ACCESS_DENIED" : "SETUP_CONSENT_ERROR",
        denied
          ? "Consent was refused (error=access_denied). Nothing was stored; run `ingest auth setup` " +
            "again and allow access to Gmail (an app in Testing status only admits its listed test users)."
          : `The consent page answered error=${error}. Nothing was stored; run \`ingest auth setup\` again.`,
      ),
    };
  }
  if (code === null || code === "") {
    return {
      kind: "error",
      error: new AuthError("SETUP_NO_CODE", "The consent redirect carried no authorization code"),
    };
  }
  return { kind: "code", code };
}

/**
 * Query parameters of a pasted line: a full `http://127.0.0.1:PORT/?...`
 * address, or just its `?code=...&state=...` part. `undefined` otherwise.
 */
export function pastedParams(line: string): URLSearchParams | undefined {
  const text = line.trim();
  if (text === "") return undefined;
  if (/^https?:\/\//i.test(text)) {
    try {
      return new URL(text).searchParams;
    } catch {
      return undefined;
    }
  }
  if (/(^|[?&])(code|error|state)=/.test(text)) return new URLSearchParams(text.replace(/^\?/, ""));
  return undefined;
}

const PAGE_STYLE = "font-family:sans-serif;max-width:40em;margin:4em auto";

function page(status: number, title: string, text: string): Response {
  const escape = (s: string) =>
    s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
  return new Response(
    `<!doctype html><meta charset="utf-8"><title>${escape(title)}</title>` +
      `<body style="${PAGE_STYLE}"><h1>${escape(title)}</h1><p>${escape(text)}</p></body>`,
    { status, headers: { "content-type": "text/html; charset=utf-8" } },
  );
}

/** Runs the flow to the end: consent, code exchange, account lookup. */
export async function runLoopbackFlow(options: LoopbackFlowOptions): Promise<LoopbackResult> {
  const { client } = options;
  const pkce = await client.createPkce();
  const state = encodeBase64Url(crypto.getRandomValues(new Uint8Array(24)));
  const done = Promise.withResolvers<CallbackOutcome>();
  let settled = false;
  const settle = (outcome: CallbackOutcome) => {
    if (settled) return;
    settled = true;
    done.resolve(outcome);
  };

  const server = serveCallback(state, () => settled, settle);
  const redirectUri = `http://127.0.0.1:${server.addr.port}/`;
  const timer = setTimeout(() => {
    settle({
      kind: "error",
      error: new AuthError(
        "SETUP_TIMEOUT",
        `No consent arrived within ${
          Math.round(options.timeoutMs / 1000)
        } s. Nothing was stored; ` +
          "run `ingest auth setup` again (--timeout SECONDS waits longer).",
      ),
    });
  }, options.timeoutMs);
  const onAbort = () =>
    settle({
      kind: "error",
      error: new AuthError("SETUP_ABORTED", "Setup interrupted. Nothing was stored."),
    });
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  try {
    options.onUrl(
      client.authorizationUrl({
        redirectUri,
        state,
        codeChallenge: pkce.challenge,
        loginHint: options.account,
      }),
      redirectUri,
    );
    if (options.readLine) readPasted(options, state, () => settled, settle);
    const outcome = await done.promise;
    if (outcome.kind === "error") throw outcome.error;
    return await finish(options, outcome.code, pkce.verifier, redirectUri);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    await server.shutdown();
  }
}

/** The loopback server the consent redirect lands on (a free port on 127.0.0.1). */
function serveCallback(
  state: string,
  isSettled: () => boolean,
  settle: (outcome: CallbackOutcome) => void,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const outcome = parseCallback(new URL(request.url).searchParams, state);
    if (outcome === undefined) return new Response("Not Found", { status: 404 });
    if (isSettled()) return page(410, "Already done", "This setup has finished; close this tab.");
    settle(outcome);
    return outcome.kind === "code"
      ? page(200, "ingest: access granted", "You can close this tab and return to the terminal.")
      : page(400, "ingest: setup failed", outcome.error.message);
  });
}

/** Feeds pasted lines into the race until the flow is settled or input ends. */
async function readPasted(
  options: LoopbackFlowOptions,
  state: string,
  isSettled: () => boolean,
  settle: (outcome: CallbackOutcome) => void,
): Promise<void> {
  while (!isSettled()) {
    let line: string | null;
    try {
      line = await options.readLine!();
    } catch {
      return;
    }
    if (line === null || isSettled()) return;
    if (line.trim() === "") continue;
    const params = pastedParams(line);
    const outcome = params && parseCallback(params, state);
    if (outcome === undefined) {
      options.onRejectedLine?.(
        "That is not the address the browser was redirected to (it starts with http://127.0.0.1:). Paste it again.",
      );
      continue;
    }
    settle(outcome);
  }
}

/** Exchanges the code, checks the grant and finds the account. */
async function finish(
  options: LoopbackFlowOptions,
  code: string,
  verifier: string,
  redirectUri: string,
): Promise<LoopbackResult> {
  const grant = await options.client.exchangeCode(code, verifier, redirectUri);
  try {
    const { refreshToken } = grant;
    if (refreshToken === undefined) {
      throw new AuthError(
        "SETUP_NO_REFRESH_TOKEN",
        "The provider returned no refresh token. Remove ingest's access at " +
          "https://myaccount.google.com/permissions and run `ingest auth setup` again.",
      );
    }
    if (grant.scopes.length > 0 && !grant.scopes.includes(GMAIL_SCOPE)) {
      throw new AuthError(
        "SETUP_SCOPE_NOT_GRANTED",
        `Access to Gmail (${GMAIL_SCOPE}) was not granted: run \`ingest auth setup\` again and ` +
          "tick the Gmail permission on the consent screen.",
      );
    }
    const account = await options.client.userEmail(grant.accessToken);
    if (options.account !== undefined && account.toLowerCase() !== options.account.toLowerCase()) {
      throw new AuthError(
        "SETUP_ACCOUNT_MISMATCH",
        `Consent was given as ${account}, not ${options.account}. Nothing was stored; run ` +
          `\`ingest auth setup --account ${options.account}\` again and pick that account.`,
      );
    }
    return { account, grant: { ...grant, refreshToken } };
  } catch (error) {
    // Do not leave a grant behind that nothing will ever use.
    await options.client.revoke(grant.refreshToken ?? grant.accessToken).catch(() => {});
    throw error;
  }
}
