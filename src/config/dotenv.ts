/**
 * Reading `.env` files: `KEY=value` lines, `#` comments, optional `export`,
 * single or double quotes (double quotes understand `\n`).
 *
 * @module
 */

/** Parses the text of a `.env` file into a map. Later keys win. */
export function parseDotenv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, key, rest] = match as unknown as [string, string, string];
    values[key] = unquote(rest);
  }
  return values;
}

function unquote(raw: string): string {
  const quote = raw[0];
  if ((quote === '"' || quote === "'") && raw.lastIndexOf(quote) > 0) {
    const inner = raw.slice(1, raw.lastIndexOf(quote));
    return quote === '"' ? inner.replaceAll("\\n", "\n").replaceAll('\\"', '"') : inner;
  }
  const comment = raw.search(/\s#/);
  return (comment >= 0 ? raw.slice(0, comment) : raw).trim();
}

/** Reads a `.env` file; a missing file is an empty map. */
export async function readDotenvFile(path: string): Promise<Record<string, string>> {
  try {
    return parseDotenv(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
}
