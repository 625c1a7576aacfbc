/**
 * HTML → plain text for `body_text` when a message has no text/plain part,
 * with `html-to-text` (the converter mailparser uses, so the text reads as
 * mailparser's `text` would): every HTML entity, unclosed `<head>` or `<p>`,
 * tables and lists as a browser would lay them out, links followed by their
 * address. The converter is compiled once, when first used; lines are not wrapped.
 *
 * html-to-text and its parser cost ≈ 30 ms of CPU to load, so they are loaded
 * only when a message needs them ({@link loadHtmlToText}): most mail has a
 * text/plain part, and `produce --once` on such a mailbox never loads them.
 *
 * @module
 */

import type { compile as Compile } from "html-to-text";
import { IngestError } from "../errors.ts";

// Deepest element nesting converted; deeper content is dropped rather than recursed into
// (hostile HTML nests thousands deep).
const MAX_NESTING = 256;

let compile: typeof Compile | undefined;
let converter: ((html: string) => string) | undefined;

/** Loads html-to-text; {@link htmlToText} needs it. */
export async function loadHtmlToText(): Promise<void> {
  compile ??= (await import("html-to-text")).compile;
}

/** Whether {@link loadHtmlToText} has run. */
export function htmlToTextLoaded(): boolean {
  return compile !== undefined;
}

/** The compiled converter, built at the first HTML-only message rather than at start-up. */
function convert(html: string): string {
  if (compile === undefined) {
    throw new IngestError("INTERNAL", "html-to-text is not loaded: call loadHtmlToText()", false);
  }
  const run = converter ??= compile({
    wordwrap: false,
    limits: { maxDepth: MAX_NESTING },
    selectors: [
      // Images say nothing in a text preview; a link's address stays, as in mailparser's text.
      { selector: "img", format: "skip" },
    ],
  });
  return run(html);
}

/**
 * Readable text of an HTML document or fragment; blank lines collapsed, ends
 * trimmed. Throws unless {@link loadHtmlToText} has run. With `wantedChars`,
 * only as much of the HTML is converted as gives that much text (with a
 * margin, so text cut where the HTML was cut lies beyond what is kept): a
 * preview of a 100 KB newsletter need not lay out all of it.
 */
export function htmlToText(html: string, wantedChars = Infinity): string {
  for (let size = Math.max(16_384, wantedChars * 8);; size *= 4) {
    if (size >= html.length) return tidy(convert(html));
    const text = tidy(convert(html.slice(0, size)));
    if (text.length >= wantedChars + CUT_MARGIN) return text.slice(0, wantedChars);
  }
}

// Text produced from the last bytes of HTML cut mid-element may be partial: that much is not kept.
const CUT_MARGIN = 1_000;

function tidy(text: string): string {
  return text
    .replace(/\u00a0/g, " ")
    .replace(/[ \t\f\v]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
