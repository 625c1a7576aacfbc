/**
 * What OAuth2 needs configured before any request: the OAuth client id and
 * secret. Apart from oauth_client.ts so that a check needs no
 * google-auth-library.
 *
 * @module
 */

import type { GoogleConfig } from "../config/config.ts";

/** What is missing for OAuth2: one line per setting; empty when both are set. */
export function oauthClientProblems(google: GoogleConfig): string[] {
  const problems: string[] = [];
  if (google.clientId === undefined) {
    problems.push(
      "GOOGLE_CLIENT_ID is required for OAuth2 (create a Desktop OAuth client: see docs/OAUTH2_SETUP.md)",
    );
  }
  if (google.clientSecret === undefined) {
    problems.push(
      "GOOGLE_CLIENT_SECRET is required for OAuth2 (from the same Desktop OAuth client)",
    );
  }
  return problems;
}
