/**
 * Benchmark corpora described by a profile: what share of messages carry an
 * HTML alternative, how long bodies are, what share carry an attachment and
 * how big. Every message is a deterministic function of its index and the
 * profile, so two runs (or an old and a new build) read the same mailbox.
 *
 * @module
 */

import { composeMessage, type MessageSpec, pseudoRandomBytes } from "./mail.ts";

/** An inclusive range `[min, max]`. */
export type Range = readonly [number, number];

/** What a generated mailbox looks like. */
export interface CorpusProfile {
  /** Share of messages that are multipart/alternative with an HTML part (0..1). */
  readonly htmlShare: number;
  /** Paragraphs per body. */
  readonly paragraphs: Range;
  /** Words per paragraph. */
  readonly words: Range;
  /** Share of messages with an ordinary attachment (0..1). */
  readonly attachmentShare: number;
  /** Size of an ordinary attachment, in KB. */
  readonly attachmentKb: Range;
  /** Share of messages with a large attachment instead (0..1). */
  readonly largeShare: number;
  /** Size of a large attachment, in MB. */
  readonly largeMb: Range;
}

/**
 * The profile of issue 14: 70% multipart/alternative with HTML, 3–33
 * paragraphs of 20–100 words, 30% with a 5–100 KB attachment, 3% with a
 * 1–4 MB one.
 */
export const HTML_HEAVY: CorpusProfile = {
  htmlShare: 0.7,
  paragraphs: [3, 33],
  words: [20, 100],
  attachmentShare: 0.3,
  attachmentKb: [5, 100],
  largeShare: 0.03,
  largeMb: [1, 4],
};

const WORDS = (
  "the of and to in is that for it with as was on be at by this had not are but from or have " +
  "an they which one you were her all she there would their we him been has when who will more " +
  "no if out so said what up its about into than them can only other new some could time these " +
  "two may then do first any my now such like our over man me even most made after also did " +
  "many before must through back years where much your way well down should because each just " +
  "those people how too little state good very make world still own see men work long get here " +
  "between both life being under never day same another know while last might us great old year " +
  "off come since against go came right used take three quarterly migration schedule review " +
  "meeting rollout tracker invoice customer release budget deadline café naïve über résumé"
).split(" ");

/** A deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick(next: () => number, [min, max]: Range): number {
  return min + Math.floor(next() * (max - min + 1));
}

/** Whether message `index` falls in a share, spread evenly over the mailbox. */
function inShare(index: number, share: number, offset: number): boolean {
  return Math.floor((index + offset) * share) !== Math.floor((index + offset - 1) * share);
}

function paragraphs(next: () => number, profile: CorpusProfile): string[][] {
  const out: string[][] = [];
  for (let p = pick(next, profile.paragraphs); p > 0; p--) {
    const words: string[] = [];
    for (let w = pick(next, profile.words); w > 0; w--) {
      words.push(WORDS[Math.floor(next() * WORDS.length)]!);
    }
    out.push(words);
  }
  return out;
}

function htmlOf(body: string[][], index: number): string {
  const style = "<style>p{margin:0 0 12px}.footer{color:#888;font-size:11px}</style>";
  const rows = body.map((words, i) => {
    const text = words.join(" ");
    return i % 3 === 1
      ? `<p style="font-family:Arial,sans-serif">${text} <a href="https://example.test/r/${index}/${i}">read more</a></p>`
      : `<p><b>${words[0]}</b> ${words.slice(1).join(" ")}</p>`;
  });
  return `<!DOCTYPE html><html><head><meta charset="utf-8">${style}</head><body>` +
    `<div style="max-width:600px">${rows.join("\n")}</div>` +
    `<p class="footer">Message ${index}. Unsubscribe at https://example.test/u</p></body></html>`;
}

/** What {@link profileMessage} put into message `index` (for tests and reports). */
export interface ProfileShape {
  readonly html: boolean;
  readonly attachmentBytes: number;
}

/** The shape of message `index` under `profile`. */
export function profileShape(index: number, profile: CorpusProfile): ProfileShape {
  const next = random(index * 2654435761 + 1);
  const html = inShare(index, profile.htmlShare, 0);
  let attachmentBytes = 0;
  if (inShare(index, profile.largeShare, 17)) {
    attachmentBytes = Math.round(
      (profile.largeMb[0] + next() * (profile.largeMb[1] - profile.largeMb[0])) * 1024 * 1024,
    );
  } else if (inShare(index, profile.attachmentShare, 5)) {
    attachmentBytes = pick(next, profile.attachmentKb) * 1024;
  }
  return { html, attachmentBytes };
}

/** Message `index` of a mailbox of `profile`; the same bytes for the same arguments. */
export function profileMessage(index: number, profile: CorpusProfile): Promise<Uint8Array> {
  const shape = profileShape(index, profile);
  const next = random(index * 40503 + 7);
  const body = paragraphs(next, profile);
  const spec: MessageSpec = {
    from: `"Sender ${index % 37}" <sender${index % 37}@example.test>`,
    to: "alice@example.test",
    subject: `Update ${index}: ${body[0]!.slice(0, 6).join(" ")}`,
    messageId: `<profile-${index}@ingest.test>`,
    date: new Date(Date.UTC(2024, 0, 1) + index * 60_000),
    baseBoundary: `profile-${index}`,
    text: body.map((words) => words.join(" ")).join("\n\n") + "\n",
    html: shape.html ? htmlOf(body, index) : undefined,
  };
  if (shape.attachmentBytes > 0) {
    spec.attachments = [{
      filename: `file-${index}.pdf`,
      content: pseudoRandomBytes(shape.attachmentBytes, index),
      contentType: "application/pdf",
    }];
  }
  return composeMessage(spec);
}

/** Messages `0..count-1` of a mailbox of `profile`. */
export async function* profileMailbox(
  count: number,
  profile: CorpusProfile,
): AsyncIterable<Uint8Array> {
  for (let i = 0; i < count; i++) yield await profileMessage(i, profile);
}
