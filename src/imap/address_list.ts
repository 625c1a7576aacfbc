/**
 * Addresses out of an address-list header (`To: "Doe, J" <j@x.org>, k@y.org`)
 * with nodemailer's `addressparser`, the parser mailparser uses: display
 * names with `@` or commas, group syntax, comments and obsolete forms. Display
 * names are dropped; entries without an addr-spec (`undisclosed-recipients:;`,
 * a bare word) are skipped.
 *
 * @module
 */

import addressparser from "nodemailer/lib/addressparser";

interface ParsedAddress {
  address?: string;
  group?: ParsedAddress[];
}

/** The addr-specs of an address list, in order; malformed entries are skipped. */
export function parseAddressList(value: string | null): string[] {
  if (!value) return [];
  // One plain address, by far the commonest field, needs no tokenizer (same result, ~10× faster).
  const simple = SIMPLE_ANGLE.exec(value) ?? SIMPLE_BARE.exec(value);
  if (simple) return [simple[1]!];
  const addresses: string[] = [];
  const visit = (entry: ParsedAddress): void => {
    if (entry.group) entry.group.forEach(visit);
    else if (entry.address && isAddrSpec(entry.address)) addresses.push(entry.address);
  };
  (addressparser(value) as ParsedAddress[]).forEach(visit);
  return addresses;
}

/** `local@domain`: a dot-atom or quoted local part, a domain without spaces or specials. */
function isAddrSpec(address: string): boolean {
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) return false;
  const local = address.slice(0, at);
  const quoted = local.length > 1 && local.startsWith('"') && local.endsWith('"');
  return (quoted || !SPECIALS.test(local)) && !SPECIALS.test(address.slice(at + 1));
}

// `Name <a@b>` / `"Name" <a@b>` / `a@b` without groups, comments, escapes or a second address.
const SIMPLE_ANGLE =
  /^\s*(?:"[^"\\]*"|[^"(),:;<>@\\[\]]*)\s*<([^\s"(),:;<>@\\[\]]+@[^\s"(),:;<>@\\[\]]+)>\s*$/;
const SIMPLE_BARE = /^\s*([^\s"(),:;<>@\\[\]]+@[^\s"(),:;<>@\\[\]]+)\s*$/;

// What neither an unquoted local part nor a domain may contain (RFC 5322 specials and spaces).
const SPECIALS = /[\s"(),:;<>@\\]/;

/** Names the IMAP ENVELOPE uses for what it could not parse (RFC 3501 §7.4.2, Dovecot's placeholders). */
const PLACEHOLDER =
  /^(?:MISSING_MAILBOX|MISSING_DOMAIN|SYNTAX_ERROR|UNEXPECTED_DATA_AFTER_ADDRESS|INVALID_ADDRESS)$/i;

/** Whether an ENVELOPE address is a server placeholder rather than a real addr-spec. */
export function isEnvelopePlaceholder(address: string): boolean {
  const at = address.lastIndexOf("@");
  if (at < 0) return true;
  return PLACEHOLDER.test(address.slice(0, at)) || PLACEHOLDER.test(address.slice(at + 1)) ||
    /\.missing-host-name\.?$|^\.?$/.test(address.slice(at + 1));
}

/**
 * The addr-specs of an address field. The server's ENVELOPE is used when it
 * can be trusted: no placeholders for what the server could not parse
 * (`MISSING_MAILBOX@MISSING_DOMAIN`), no spaces, and as many addresses as the
 * header has `@` signs (a display name such as `Mikel@Lindsaar <m@x.org>` or a
 * second address the server dropped makes the counts differ). Otherwise the
 * header is parsed, which costs a few microseconds per field.
 */
export function fieldAddresses(
  list: readonly { address?: string }[] | undefined,
  header: string | null,
): string[] {
  const envelope = (list ?? []).map((a) => a.address ?? "");
  const trusted = envelope.length > 0 &&
    envelope.every((address) => !/\s/.test(address) && !isEnvelopePlaceholder(address)) &&
    (header === null || atSigns(header) === envelope.length);
  if (trusted) return envelope;
  const parsed = parseAddressList(header);
  if (parsed.length > 0 || header !== null) return parsed;
  return envelope.filter((address) => !isEnvelopePlaceholder(address));
}

function atSigns(text: string): number {
  let count = 0;
  for (let i = text.indexOf("@"); i >= 0; i = text.indexOf("@", i + 1)) count++;
  return count;
}
