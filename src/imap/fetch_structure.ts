/**
 * BODYSTRUCTURE from the tokenizer's tree into imapflow's
 * `MessageStructureObject`, walked the way imapflow's `parseBodystructure`
 * walks it (same fields, same quirks), but with a fast path for parameter
 * lists: imapflow runs every parameter value through libmime's
 * `decodeWords` (five regular expressions) and its RFC 2231 pass, which was
 * most of the BODYSTRUCTURE cost. A list with no encoded word, no `*` key,
 * nothing that looks like an RFC 2231 value and no unsafe key is read as the
 * plain pairs `decodeWords` would give back unchanged; any other list, and
 * every envelope of a message/rfc822 part, goes to imapflow's own readers.
 * `fetch_rows_test.ts` compares the result with imapflow's on random trees.
 *
 * @module
 */

import type { MessageStructureObject } from "imapflow";
import { getStructuredParams, isUnsafeKey, parseEnvelope } from "imapflow/lib/tools.js";
import type { ImapValue } from "./fetch_tokens.ts";

type Node = ImapValue[];
type Params = Record<string, string>;

/** imapflow's reading of a BODYSTRUCTURE list. */
export function readBodyStructure(tree: Node): MessageStructureObject {
  return walk(tree, []);
}

function walk(node: Node, path: number[]): MessageStructureObject {
  const current = {} as MessageStructureObject;
  let i = 0;
  if (path.length) current.part = path.join(".");
  if (Array.isArray(node[0])) {
    current.childNodes = [];
    let part = 0;
    while (Array.isArray(node[i])) {
      current.childNodes.push(walk(node[i++] as Node, [...path, ++part]));
    }
    current.type = "multipart/" + str(node[i++]).toLowerCase();
    if (i < node.length) {
      if (node[i]) current.parameters = params(node[i]!);
      i++;
    }
  } else {
    i = single(node, current, path);
  }
  if (i < node.length) {
    const disposition = node[i];
    if (Array.isArray(disposition) && disposition.length) {
      current.disposition = str(disposition[0]).toLowerCase();
      if (Array.isArray(disposition[1])) current.dispositionParameters = params(disposition[1]);
    }
    i++;
  }
  if (i < node.length) {
    const language = node[i];
    if (language) {
      current.language = (Array.isArray(language) ? language : [language]).map((value) =>
        str(value).toLowerCase()
      );
    }
    i++;
  }
  if (i < node.length && node[i]) current.location = str(node[i]);
  return current;
}

/** The fields of a non-multipart part; returns the index after them. */
function single(node: Node, current: MessageStructureObject, path: number[]): number {
  let i = 0;
  current.type = str(node[i++]).toLowerCase() + "/" + str(node[i++]).toLowerCase();
  if (node[i]) current.parameters = params(node[i]!);
  i++;
  if (node[i]) current.id = str(node[i]);
  i++;
  if (node[i]) current.description = str(node[i]);
  i++;
  if (node[i]) current.encoding = str(node[i]).toLowerCase();
  i++;
  if (node[i]) current.size = num(node[i]);
  i++;
  if (current.type === "message/rfc822") {
    if (node[i]) current.envelope = parseEnvelope(([] as ImapValue[]).concat(node[i]!) as never);
    i++;
    // The encapsulated message shares its part number with its wrapper, as in imapflow.
    if (node[i]) current.childNodes = [walk(node[i] as Node, path)];
    i++;
    if (node[i]) current.lineCount = num(node[i]);
    i++;
  }
  if (current.type.startsWith("text/")) {
    // Some servers leave out the line count: imapflow's test for that shape, kept as it is.
    const shifted = node.length === 11 && Array.isArray(node[i + 1]) && !Array.isArray(node[i + 2]);
    if (!shifted) {
      if (node[i]) current.lineCount = num(node[i]);
      i++;
    }
  }
  if (i < node.length) {
    if (node[i]) current.md5 = str(node[i]).toLowerCase();
    i++;
  }
  return i;
}

/** A parameter list: plain pairs directly, anything that needs decoding by imapflow. */
function params(value: ImapValue): Params {
  if (!Array.isArray(value)) return getStructuredParams(value as never) as Params;
  const plain: Params = {};
  for (let j = 0; j + 1 < value.length; j += 2) {
    const key = str(value[j]).toLowerCase();
    const text = str(value[j + 1]);
    if (
      key.includes("*") || text.includes("=?") || text.includes("\u0000") || isUnsafeKey(key) ||
      (key === "filename" && text.includes("'"))
    ) {
      return getStructuredParams(value as never) as Params;
    }
    plain[key] = text;
  }
  return plain;
}

const utf8 = new TextDecoder();

/** A scalar's text as imapflow reads it (`(node.value || '').toString()`); `""` for NIL and lists. */
function str(node: ImapValue | undefined): string {
  if (!node || Array.isArray(node)) return "";
  return typeof node.value === "string" ? node.value : utf8.decode(node.value);
}

/** A number as imapflow reads it (`Number(node.value || 0) || 0`, a literal's bytes included). */
function num(node: ImapValue | undefined): number {
  if (!node || Array.isArray(node)) return 0;
  return Number(node.value || 0) || 0;
}
