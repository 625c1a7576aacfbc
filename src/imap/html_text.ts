/**
 * HTML → plain text for `body_text` when a message has no text/plain part,
 * with `html-to-text` (the converter mailparser uses, so the text reads as
 * mailparser's `text` would): every HTML entity, unclosed `<head>` or `<p>`,
 * tables and lists as a browser would lay them out, links followed by their
 * address. The converter is compiled once; lines are not wrapped.
 *
 * @module
 */

import { compile } from "html-to-text";

// Deepest element nesting converted; deeper content is dropped rather than recursed into
// (hostile HTML nests thousands deep).
const MAX_NESTING = 256;

const convert = compile({
  wordwrap: false,
  limits: { maxDepth: MAX_NESTING },
  selectors: [
    // Images say nothing in a text preview; a link's address stays, as in mailparser's text.
    { selector: "img", format: "skip" },
  ],
});

/** Readable text of an HTML document or fragment; blank lines collapsed, ends trimmed. */
export function htmlToText(html: string): string {
  return convert(html)
    .replace(/\u00a0/g, " ")
    .replace(/[ \t\f\v]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
