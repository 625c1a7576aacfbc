/**
 * A small, fast HTML → plain text conversion for `body_text` when a message
 * has no text/plain part. It drops scripts, styles and comments, turns block
 * elements into line breaks and decodes entities; it is a preview, not a
 * renderer.
 *
 * @module
 */

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  copy: "©",
  reg: "®",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  bull: "•",
  euro: "€",
  middot: "·",
  laquo: "«",
  raquo: "»",
  zwnj: "",
  zwj: "",
};

const BLOCK_TAGS =
  /<\/?(?:p|div|br|hr|li|ul|ol|tr|table|h[1-6]|blockquote|pre|section|article|header|footer)\b[^>]*>/gi;

/** Decodes `&amp;`, `&#233;`, `&#xE9;` and the common named entities. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === "#") {
      const code = entity[1] === "x" || entity[1] === "X"
        ? parseInt(entity.slice(2), 16)
        : parseInt(entity.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

/** Readable text of an HTML document or fragment, whitespace collapsed. */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, "")
    .replace(/<(script|style|head|title)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, "")
    .replace(BLOCK_TAGS, "\n")
    .replace(/<[^>]*>?/g, "");
  return decodeEntities(text)
    .replace(/[ \t\f\v\u00a0]+/g, " ")
    .replace(/ *\n[ \n]*/g, "\n")
    .trim();
}
