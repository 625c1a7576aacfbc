/**
 * What an IMAP login needs, and where it comes from. The producer asks a
 * {@link CredentialsProvider} before every login; the OAuth2 provider (see
 * `src/auth/`) refreshes tokens, the password provider returns a constant.
 *
 * @module
 */

/** Credentials for one IMAP login: a password, or an OAuth2 access token (XOAUTH2/OAUTHBEARER). */
export type ImapCredentials =
  | { readonly user: string; readonly pass: string }
  | { readonly user: string; readonly accessToken: string };

/** Options of {@link CredentialsProvider.get}. */
export interface CredentialsRequest {
  /**
   * The last login with the current credentials failed: refresh the access
   * token now instead of trusting its expiry time.
   */
  readonly forceRefresh?: boolean;
}

/** Supplies fresh credentials for an account's IMAP logins. */
export interface CredentialsProvider {
  /** The account these credentials log in as. */
  readonly account: string;
  /**
   * Fresh credentials. Throws an `AuthError` (from `src/errors.ts`) with
   * `reauthRequired: true` when only `ingest auth setup` can help (revoked or
   * expired refresh token); the producer then parks the account.
   */
  get(request?: CredentialsRequest): Promise<ImapCredentials>;
}

/** Credentials for `IMAP_AUTH=password`: the same user and password every time. */
export function passwordCredentials(user: string, pass: string): CredentialsProvider {
  return { account: user, get: () => Promise.resolve({ user, pass }) };
}
