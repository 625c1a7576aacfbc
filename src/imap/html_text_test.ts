import assert from "node:assert/strict";
import { htmlToText, loadHtmlToText } from "./html_text.ts";

await loadHtmlToText();

Deno.test("htmlToText() decodes every named entity", () => {
  assert.equal(
    htmlToText("<p>Gr&ouml;&szlig;e &bdquo;Test&ldquo; 3&times;4 &hearts; &#x263A; &#233;</p>"),
    "Größe „Test“ 3×4 ♥ ☺ é",
  );
});

Deno.test("htmlToText() keeps the body after a <head> that is never closed", () => {
  const text = htmlToText("<html><head><title>T</title><body><p>The body text</p></body>");
  assert.equal(text, "The body text");
});

Deno.test("htmlToText() drops scripts, styles and comments and keeps paragraphs apart", () => {
  const text = htmlToText(
    "<style>p{color:red}</style><!-- note --><p>One&nbsp;two</p><script>x()</script><div>Three</div>",
  );
  assert.equal(text, "One two\n\nThree");
});

Deno.test("htmlToText() gives a link's address after its text and skips images", () => {
  assert.equal(
    htmlToText('<a href="https://example.org/x">Read more</a><img src="https://t.example/p.gif">'),
    "Read more [https://example.org/x]",
  );
});

Deno.test("htmlToText() with wantedChars gives the start of the whole text", () => {
  const html = "<html><body>" +
    Array.from({ length: 3_000 }, (_, i) => `<p>Paragraph ${i} <b>bold</b> &amp; more.</p>`).join(
      "",
    ) +
    "</body></html>";
  const whole = htmlToText(html);
  const start = htmlToText(html, 500);
  assert.ok(html.length > 100_000);
  assert.equal(start.length, 500);
  assert.equal(start, whole.slice(0, 500));
});
