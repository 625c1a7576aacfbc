/**
 * The JSON views of registered accounts that `ingest accounts list|show
 * --json` print (docs/schemas/accounts_list.schema.json,
 * accounts_show.schema.json): the record joined with the fleet's view,
 * never a secret.
 *
 * @module
 */

import type { AccountFleetView } from "./fleet_view.ts";
import type { AccountAuth, AccountRecord } from "./registry.ts";

/** One account of `accounts list --json`. */
export interface AccountListView extends AccountFleetView {
  readonly account: string;
  readonly alias: string | null;
  readonly auth: AccountAuth;
  readonly mailboxes: readonly string[];
}

/** `accounts show --json`: the list view plus when it was added and whether a password is stored. */
export interface AccountShowView extends AccountListView {
  readonly added_at: string;
  readonly password_stored: boolean;
}

const NO_FLEET: AccountFleetView = { owner: null, state: "unassigned", last_event_at: null };

/** The list view of `record`. */
export function accountListView(
  record: AccountRecord,
  fleet: AccountFleetView = NO_FLEET,
): AccountListView {
  return {
    account: record.account,
    alias: record.alias,
    auth: record.auth,
    mailboxes: record.mailboxes,
    owner: fleet.owner,
    state: fleet.state,
    last_event_at: fleet.last_event_at,
  };
}

/** The show view of `record`. */
export function accountShowView(
  record: AccountRecord,
  fleet: AccountFleetView = NO_FLEET,
): AccountShowView {
  return {
    ...accountListView(record, fleet),
    added_at: record.added_at,
    password_stored: record.password_sealed !== null,
  };
}
