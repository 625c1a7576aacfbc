/**
 * Test messages: a composer over nodemailer's MailComposer, a deterministic
 * realistic mix (by index), malformed MIME, and large messages.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import MailComposer from "nodemailer/lib/mail-composer/index.js";

/** An attachment or inline part of {@link MessageSpec}. */
export interface AttachmentSpec {
  filename?: string;
  content: string | Uint8Array;
  contentType?: string;
  /** Content-ID for inline parts referenced as `cid:` from HTML. */
  cid?: string;
  contentDisposition?: "attachment" | "inline";
}

/** What {@link composeMessage} builds. */
export interface MessageSpec {
  /** Omit it to give a hand-made `From` in {@link MessageSpec.rawHeaders}. */
  from?: string;
  to: string | string[];
  cc?: string | string[];
  replyTo?: string;
  subject?: string;
  text?: string;
  html?: string;
  /** Defaults to a random id. */
  messageId?: string;
  inReplyTo?: string;
  references?: string[];
  date?: Date;
  /** Encoding of text parts; nodemailer picks one when unset. */
  textEncoding?: "quoted-printable" | "base64";
  /**
   * Extra headers. A value `{ prepared: true, value }` is written as is (for
   * hand-made RFC 2047 words in other charsets).
   */
  headers?: Record<string, string | { prepared: true; value: string }>;
  attachments?: AttachmentSpec[];
  /** Header lines written verbatim before the composed ones (nodemailer drops a prepared From). */
  rawHeaders?: string[];
  /** Makes MIME boundaries deterministic. */
  baseBoundary?: string;
}

/** Builds an RFC 5322 message (CRLF line ends). */
export async function composeMessage(spec: MessageSpec): Promise<Uint8Array> {
  const { rawHeaders, ...mail } = spec;
  const composer = new MailComposer({
    ...mail,
    attachments: spec.attachments?.map((a) => ({
      ...a,
      content: typeof a.content === "string" ? a.content : Buffer.from(a.content),
    })),
  });
  const built: Uint8Array = await composer.compile().build();
  const body = new Uint8Array(built.buffer, built.byteOffset, built.byteLength);
  if (!rawHeaders?.length) return body;
  const head = new TextEncoder().encode(rawHeaders.map((line) => `${line}\r\n`).join(""));
  const out = new Uint8Array(head.byteLength + body.byteLength);
  out.set(head, 0);
  out.set(body, head.byteLength);
  return out;
}

/** Deterministic pseudo-random bytes (mulberry32 seeded by `seed`). */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i += 4) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const value = (t ^ (t >>> 14)) >>> 0;
    out[i] = value & 0xff;
    if (i + 1 < length) out[i + 1] = (value >>> 8) & 0xff;
    if (i + 2 < length) out[i + 2] = (value >>> 16) & 0xff;
    if (i + 3 < length) out[i + 3] = (value >>> 24) & 0xff;
  }
  return out;
}

/** Options of {@link realisticMessage}. */
export interface RealisticMessageOptions {
  /** Size of the binary attachment of attachment-carrying kinds; default 4096. */
  attachmentBytes?: number;
}

/** The kinds {@link realisticMessage} cycles through, in order. */
export const REALISTIC_KINDS = [
  "plain",
  "alternative",
  "html-only",
  "utf8-words",
  "latin1-words",
  "reply",
  "cc-reply-to-qp",
  "inline-image",
  "attachment",
  "base64-body",
] as const;

/** One of {@link REALISTIC_KINDS}. */
export type RealisticKind = typeof REALISTIC_KINDS[number];

/** The kind of message {@link realisticMessage} builds for `index`. */
export function realisticKind(index: number): RealisticKind {
  return REALISTIC_KINDS[index % REALISTIC_KINDS.length]!;
}

/** The Message-ID (with angle brackets) of realistic message `index`. */
export function realisticMessageId(index: number): string {
  return `<msg-${index}.${realisticKind(index)}@ingest.test>`;
}

const BASE_DATE = Date.UTC(2024, 0, 1, 8, 0, 0);
const SENDERS = [
  '"Ada Lovelace" <ada@example.test>',
  '"Grace Hopper" <grace@example.test>',
  "linus@example.test",
  '"Support Team" <support@example.test>',
];
const PARAGRAPH = "The quarterly numbers are in and the migration finished ahead of schedule. " +
  "Please review the attached notes before Thursday's meeting, and reply with any " +
  "questions about the rollout plan or the remaining open items on the tracker.";
/** A 1x1 transparent PNG. */
const PIXEL_PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

/** RFC 2047 Q-encoding of an ISO-8859-1 string. */
function latin1Word(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code > 0xff) throw new Error(`Cannot encode ${char} in ISO-8859-1`);
    if (/[A-Za-z0-9]/.test(char)) out += char;
    else if (char === " ") out += "_";
    else out += `=${code.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return `=?ISO-8859-1?Q?${out}?=`;
}

/**
 * A realistic message, the same bytes for the same `index` (and options).
 * Kinds cycle through {@link REALISTIC_KINDS}: plain text, text+HTML
 * alternative, HTML only, UTF-8 and ISO-8859-1 encoded words, a reply in a
 * thread (In-Reply-To/References to message `index - 5`), Cc/Reply-To with a
 * quoted-printable body, an inline image, a binary attachment of
 * `attachmentBytes`, and a base64 body. Message-IDs are unique per index
 * ({@link realisticMessageId}).
 */
export function realisticMessage(
  index: number,
  options: RealisticMessageOptions = {},
): Promise<Uint8Array> {
  const kind = realisticKind(index);
  const attachmentBytes = options.attachmentBytes ?? 4096;
  const base: MessageSpec = {
    from: SENDERS[index % SENDERS.length]!,
    to: "alice@example.test",
    subject: `Status update #${index}`,
    messageId: realisticMessageId(index),
    date: new Date(BASE_DATE + index * 60_000),
    baseBoundary: `ingest-${index}`,
    text: `Hello,\n\n${PARAGRAPH}\n\nMessage ${index}.\n`,
  };
  const html = `<html><body><p>Hello,</p><p>${PARAGRAPH}</p><p>Message <b>${index}</b>.</p>` +
    `</body></html>`;
  switch (kind) {
    case "plain":
      return composeMessage(base);
    case "alternative":
      return composeMessage({ ...base, html });
    case "html-only":
      return composeMessage({ ...base, text: undefined, html });
    case "utf8-words":
      return composeMessage({
        ...base,
        from: '"Jürgen Groß" <juergen@example.test>',
        subject: `Grüße aus München — 会議の議事録 #${index} ✓`,
        text: `Grüße,\n\nDas Protokoll ist fertig. 議事録を添付します。\n\nNachricht ${index}.\n`,
      });
    case "latin1-words":
      return composeMessage({
        ...base,
        from: undefined,
        subject: undefined,
        rawHeaders: [`From: ${latin1Word("François Müller")} <fm@example.test>`],
        headers: {
          Subject: { prepared: true, value: latin1Word(`Réunion très importante n°${index}`) },
        },
        text: `Bonjour,\n\nLa réunion est déplacée à jeudi. Message ${index}.\n`,
      });
    case "reply": {
      const parent = realisticMessageId(Math.max(0, index - 5));
      const root = realisticMessageId(Math.max(0, index - 10));
      return composeMessage({
        ...base,
        subject: `Re: Status update #${Math.max(0, index - 5)}`,
        inReplyTo: parent,
        references: root === parent ? [parent] : [root, parent],
        text: `Thanks, sounds good.\n\n> ${PARAGRAPH}\n`,
      });
    }
    case "cc-reply-to-qp":
      return composeMessage({
        ...base,
        cc: ['"Bob Builder" <bob@example.test>', "carol@example.test"],
        replyTo: "team@example.test",
        textEncoding: "quoted-printable",
        text: `Hi all — a long line follows. ${PARAGRAPH} ${PARAGRAPH} Prix: 10 €.\n`,
      });
    case "inline-image":
      return composeMessage({
        ...base,
        html: `${html}<img src="cid:logo-${index}@ingest.test" alt="logo">`,
        attachments: [{
          filename: "logo.png",
          content: PIXEL_PNG,
          contentType: "image/png",
          cid: `logo-${index}@ingest.test`,
        }],
      });
    case "attachment":
      return composeMessage({
        ...base,
        subject: `Report ${index} (with attachment)`,
        html,
        attachments: [{
          filename: `report-${index}.pdf`,
          content: pseudoRandomBytes(attachmentBytes, index),
          contentType: "application/pdf",
        }],
      });
    case "base64-body":
      return composeMessage({ ...base, textEncoding: "base64" });
  }
}

/**
 * A malformed message, one of several variants (cycled by `variant`): a
 * multipart body whose closing boundary is missing and whose declared boundary
 * differs from the one used; a part with invalid base64; garbage header lines
 * (no colon, 8-bit bytes, an overlong line); an unknown charset.
 */
export function malformedMessage(variant = 0): Uint8Array {
  const id = `<malformed-${variant}@ingest.test>`;
  const variants = [
    // Declared boundary never appears; the used one is never closed.
    `From: broken@example.test\r\nTo: alice@example.test\r\nSubject: Broken boundary\r\n` +
    `Message-ID: ${id}\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: multipart/mixed; boundary="declared"\r\n\r\n` +
    `--used\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n--used\r\n` +
    `Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
    `AAAA\r\n`,
    // Invalid base64 and a quoted-printable soft break at the very end.
    `From: broken@example.test\r\nTo: alice@example.test\r\nSubject: Bad base64\r\n` +
    `Message-ID: ${id}\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
    `!!!not*base64@@@===\r\nSGVsbG8=x\r\n--b1\r\n` +
    `Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n` +
    `broken =ZZ escape and a trailing soft break=\r\n--b1--\r\n`,
    // Garbage header lines, raw 8-bit header bytes, an unknown charset.
    `From: broken@example.test\r\nTo: alice@example.test\r\nThis line has no colon\r\n` +
    `Subject: =?x-unknown?Q?caf=E9?= \xe9t\xe9\r\n` +
    `X-Long: ${"x".repeat(2000)}\r\n: empty name\r\n` +
    `Message-ID: ${id}\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\n` +
    `body with \xff\xfe bytes\r\n`,
  ];
  const text = variants[variant % variants.length]!;
  // Latin-1 bytes as written above (\xe9 is one byte, not UTF-8).
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

/**
 * A message of about `bytes` bytes (at least a few hundred): a short text part
 * and one big base64 attachment of deterministic data. Built directly, not via
 * nodemailer, so tens of megabytes cost little.
 */
export function largeMessage(bytes: number, seed = 1): Uint8Array {
  const header = `From: "Big Sender" <big@example.test>\r\nTo: alice@example.test\r\n` +
    `Subject: Large message (${bytes} bytes)\r\nMessage-ID: <large-${bytes}-${seed}@ingest.test>\r\n` +
    `Date: ${new Date(BASE_DATE).toUTCString()}\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: multipart/mixed; boundary="large-boundary"\r\n\r\n` +
    `--large-boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attachment.\r\n` +
    `--large-boundary\r\nContent-Type: application/octet-stream; name="blob.bin"\r\n` +
    `Content-Disposition: attachment; filename="blob.bin"\r\n` +
    `Content-Transfer-Encoding: base64\r\n\r\n`;
  const trailer = `\r\n--large-boundary--\r\n`;
  const encoder = new TextEncoder();
  const head = encoder.encode(header);
  const tail = encoder.encode(trailer);
  // 76 base64 chars + CRLF = 78 bytes encode 57 payload bytes.
  const room = Math.max(78, bytes - head.byteLength - tail.byteLength);
  const lines = Math.floor(room / 78);
  const out = new Uint8Array(head.byteLength + lines * 78 + tail.byteLength);
  out.set(head, 0);
  let offset = head.byteLength;
  const chunkLines = 1024;
  for (let line = 0; line < lines; line += chunkLines) {
    const count = Math.min(chunkLines, lines - line);
    const payload = pseudoRandomBytes(count * 57, seed + line);
    for (let i = 0; i < count; i++) {
      const slice = payload.subarray(i * 57, (i + 1) * 57);
      const encoded = encoder.encode(btoa(String.fromCharCode(...slice)) + "\r\n");
      out.set(encoded, offset);
      offset += encoded.byteLength;
    }
  }
  out.set(tail, offset);
  return out;
}
