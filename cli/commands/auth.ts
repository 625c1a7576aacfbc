/**
 * `ingest auth setup|info|revoke`: Gmail OAuth2 consent, the token store, revocation.
 * Never prints a token.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { Config } from "../../src/config/config.ts";
import { UsageError } from "../../src/errors.ts";
import { openBrowser } from "../../src/auth/open_browser.ts";
import { revokeAccount } from "../../src/auth/revoke.ts";
import { KEY_GENERATION_HINT } from "../../src/auth/token_crypto.ts";
import { describeTokens, type TokenInfo } from "../../src/auth/token_info.ts";
import { formatMode, type TokenStore } from "../../src/auth/token_store.ts";
import type { App } from "../app.ts";
import { flagSettings, settingOption } from "../setting_option.ts";
import { table } from "../output.ts";
import { ACCOUNT_FLAGS, examples, printResult } from "./common.ts";
import { tokenStoreOf } from "./token_store_choice.ts";

/** Warns when tokens are (or will be) stored unencrypted; an encrypted file needs no warning. */
async function warnIfUnencrypted(app: App, config: Config): Promise<void> {
  // The Redis store refuses to work without a key, with its own clear error.
  if (config.google.tokenKey !== undefined || config.google.tokenStore === "redis") return;
  // An encrypted file read without a key fails with its own clear error right after.
  const file = await (await tokenStoreOf(app, config)).status().catch(() => undefined);
  if (file?.encryptedOnDisk) return;
  app.runtime.stderr(
    `warning: INGEST_TOKEN_KEY is not set, so ${config.google.tokenFile} holds tokens unencrypted ` +
      `(protected only by its 0600 mode).\n  Generate a key and keep it in your secret store: ` +
      `${KEY_GENERATION_HINT}\n`,
  );
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** A refresh token that expires means an OAuth app in "Testing" status: say when, and the fix. */
function warnIfTestingApp(app: App, account: string, expiresAt: number | undefined): void {
  if (expiresAt === undefined) return;
  const days = Math.max(0, Math.round((expiresAt - Date.now()) / 86_400_000));
  app.runtime.stderr(
    `warning: the OAuth app is in "Testing" status: this refresh token expires on ` +
      `${iso(expiresAt)} (in ${days} days), after which ingest stops until ` +
      `\`ingest auth setup --account ${account}\` is run again. Publish the app ("In production") ` +
      `to get tokens that last: see docs/OAUTH2_SETUP.md.\n`,
  );
}

/** What `auth setup` prints while it waits for consent. */
function consentPrompt(
  o: {
    url: string;
    redirectUri: string;
    opened: boolean;
    headless: boolean;
    timeoutSeconds: number;
  },
): string {
  return `${o.opened ? "A browser should open. If it does not, open" : "Open"} this URL ` +
    `and allow access to Gmail:\n\n${o.url}\n\n` +
    `Waiting up to ${o.timeoutSeconds} s for the redirect to ${o.redirectUri}\n` +
    (o.headless
      ? "On another machine the final page will fail to load: copy its full address " +
        "(it starts with http://127.0.0.1:) and paste it here, then press Enter.\n"
      : "");
}

/** Builds `auth setup`. */
function authSetupCommand(app: App): Command {
  return new Command("setup")
    .description(
      "Ask for consent in a browser (loopback redirect, PKCE) and store the account's refresh token",
    )
    .option(
      ACCOUNT_FLAGS,
      "account to sign in as (default: IMAP_USER; checked after consent)",
    )
    .option(
      "--no-browser",
      "do not open a browser; also accept the redirect address pasted on stdin",
    )
    .addOption(settingOption("AUTH_SETUP_TIMEOUT_SECONDS"))
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples(
        "ingest auth setup --account me@gmail.com",
        "ingest auth setup --no-browser          # headless server: open the URL elsewhere, paste the redirect",
        "ingest auth setup --account me@gmail.com --timeout 600 --json",
      ) + "\nSee docs/OAUTH2_SETUP.md for creating the OAuth client.\n",
    )
    .action(async (options) => {
      const config = await app.config({
        IMAP_USER: options.account,
        ...flagSettings(options, ["AUTH_SETUP_TIMEOUT_SECONDS"]),
      });
      const timeoutSeconds = config.google.setupTimeoutSeconds;
      // google-auth-library and the loopback flow load only for a setup, not for --help.
      const { createOAuthClient } = await import("../../src/auth/oauth_client.ts");
      const { setupAccount } = await import("../../src/auth/setup.ts");
      const client = createOAuthClient(config.google);
      await warnIfUnencrypted(app, config);
      const headless = options.browser === false;
      const store = await tokenStoreOf(app, config);
      const { account, token } = await setupAccount({
        client,
        store,
        account: config.imap.user,
        timeoutMs: timeoutSeconds * 1000,
        signal: app.runtime.signal,
        onUrl: (url, redirectUri) => {
          const opened = !headless && openBrowser(url, app.runtime.env);
          app.runtime.stderr(consentPrompt({ url, redirectUri, opened, headless, timeoutSeconds }));
        },
        readLine: headless ? app.runtime.readLine : undefined,
        onRejectedLine: (message) => app.runtime.stderr(`${message}\n`),
      });
      warnIfTestingApp(app, account, token.refreshTokenExpiresAt);
      const encrypted = config.google.tokenKey !== undefined;
      printResult(app, options.json, {
        account,
        token_file: store.path,
        encrypted,
        scopes: token.scopes,
        access_token_expires_at: iso(token.expiresAt),
        refresh_token_expires_at: iso(token.refreshTokenExpiresAt),
      }, () =>
        `Stored the OAuth2 token of ${account} in ${store.path} ` +
        `(${encrypted ? "encrypted" : "NOT encrypted"}).\n`);
    });
}

/** Builds `auth info`. */
function authInfoCommand(app: App): Command {
  return new Command("info")
    .description("Show stored accounts, scopes and expiry, and the token file's protection")
    .option(ACCOUNT_FLAGS, "only this account (default: every stored account)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples("ingest auth info", "ingest auth info --account me@gmail.com --json"),
    )
    .action(async (options) => {
      const config = await app.config();
      await warnIfUnencrypted(app, config);
      const info = await describeTokens(await tokenStoreOf(app, config), options.account);
      const missing = options.account !== undefined && info.accounts.length === 0;
      printResult(app, options.json, infoJson(info), () => infoText(info));
      if (missing) {
        app.runtime.stderr(
          `No token is stored for ${options.account}: run ingest auth setup --account ${options.account}\n`,
        );
        app.exitCode = 1;
      }
    });
}

/** Builds `auth revoke`. */
function authRevokeCommand(app: App): Command {
  return new Command("revoke")
    .description("Revoke the account's grant at the provider and delete its local token")
    .option(ACCOUNT_FLAGS, "account (default: IMAP_USER, or the only stored account)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples("ingest auth revoke --account me@gmail.com", "ingest auth revoke --json"),
    )
    .action(async (options) => {
      const config = await app.config({ IMAP_USER: options.account });
      const store = await tokenStoreOf(app, config);
      const account = config.imap.user ?? await onlyAccount(store);
      const { createOAuthClient } = await import("../../src/auth/oauth_client.ts");
      const client = createOAuthClient(config.google, { requireClient: false });
      const result = await revokeAccount(store, client, account);
      printResult(
        app,
        options.json,
        {
          account,
          removed_locally: result.removedLocally,
          remote: result.remote,
          remote_error: result.remoteError?.message ?? null,
        },
        () =>
          result.removedLocally
            ? `Removed the local token of ${account}; remote revoke: ${result.remote}.\n`
            : `No token is stored for ${account}.\n`,
      );
      if (!result.removedLocally) {
        app.exitCode = 1;
      } else if (result.remote === "failed") {
        app.runtime.stderr(
          `error: the local token was removed, but the remote revoke did NOT happen: ` +
            `${result.remoteError?.message}\n  Remove the app's access by hand at ` +
            `https://myaccount.google.com/permissions\n`,
        );
        app.exitCode = 1;
      }
    });
}

/** Builds the `auth` command group. */
export function authCommand(app: App): Command {
  const auth = new Command("auth").description(
    "Gmail OAuth2: consent (setup), stored tokens (info), revocation (revoke)",
  );

  auth.addCommand(authSetupCommand(app));
  auth.addCommand(authInfoCommand(app));
  auth.addCommand(authRevokeCommand(app));
  return auth;
}

async function onlyAccount(store: TokenStore): Promise<string> {
  const accounts = [...(await store.list()).keys()];
  if (accounts.length === 1) return accounts[0]!;
  throw new UsageError(
    accounts.length === 0
      ? `No token is stored in ${store.path}: nothing to revoke`
      : `Several accounts are stored (${accounts.join(", ")}): choose one with --account`,
  );
}

function infoJson(info: TokenInfo): Record<string, unknown> {
  return {
    token_file: {
      path: info.file.path,
      exists: info.file.exists,
      mode: info.file.mode === undefined ? null : formatMode(info.file.mode),
      encrypted: info.file.exists ? info.file.encryptedOnDisk : info.file.keyConfigured,
      key_configured: info.file.keyConfigured,
    },
    accounts: info.accounts.map((a) => ({
      account: a.account,
      scopes: a.scopes,
      access_token_expires_at: iso(a.accessTokenExpiresAt),
      access_token_expired: a.accessTokenExpired,
      refresh_token_present: a.refreshTokenPresent,
      refresh_token_expires_at: iso(a.refreshTokenExpiresAt),
      updated_at: iso(a.updatedAt),
    })),
  };
}

function infoText(info: TokenInfo): string {
  const file = info.file;
  const protection = !file.exists
    ? "does not exist"
    : `mode ${formatMode(file.mode ?? 0)}, ${file.encryptedOnDisk ? "encrypted" : "NOT encrypted"}`;
  const head = `Token file: ${file.path} (${protection})\n`;
  if (info.accounts.length === 0) return head + "No OAuth2 tokens stored. Run: ingest auth setup\n";
  return head + "\n" + table(
    ["ACCOUNT", "SCOPES", "ACCESS_EXPIRES", "REFRESH_TOKEN", "REFRESH_EXPIRES"],
    info.accounts.map((a) => [
      a.account,
      a.scopes.join(" "),
      a.accessTokenExpired ? "expired" : iso(a.accessTokenExpiresAt),
      a.refreshTokenPresent ? "present" : "MISSING",
      iso(a.refreshTokenExpiresAt) ?? "never",
    ]),
  );
}
