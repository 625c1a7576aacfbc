/**
 * Addresses out of an address-list header (`To: "Doe, J" <j@x.org>, k@y.org`),
 * for when the server's ENVELOPE is missing. Display names are dropped; group
 * syntax and comments are tolerated.
 *
 * @module
 */

/** The addr-specs of an address list, in order; malformed entries are skipped. */
export function parseAddressList(value: string | null): string[] {
  if (!value) return [];
  const addresses: string[] = [];
  for (const item of splitOutsideQuotes(value.replace(/\([^()]*\)/g, " "))) {
    const angle = /<([^<>]*)>/.exec(item);
    const candidate = (angle ? angle[1]! : item.replace(/^[^:]*:/, "").replace(/;$/, "")).trim();
    if (/^[^\s@]+@[^\s@]+$/.test(candidate)) addresses.push(candidate);
  }
  return addresses;
}

function splitOutsideQuotes(value: string): string[] {
  const items: string[] = [];
  let current = "";
  let quoted = false;
  let angle = 0;
  for (const char of value) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === "<") angle++;
    else if (!quoted && char === ">") angle = Math.max(0, angle - 1);
    if (!quoted && angle === 0 && (char === "," || char === ";")) {
      items.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  items.push(current);
  return items;
}
