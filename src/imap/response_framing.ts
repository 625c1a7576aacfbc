/**
 * Our framing of the server's bytes into responses, in place of imapflow's
 * for the producer's connections.
 *
 * imapflow's `ImapStream` cuts the socket's chunks into responses (lines
 * with their `{n}` literals) and pushes each through a Node stream to its
 * reader. A CPU profile of `produce --once` put that at ≈ 12 % of the run
 * (docs/PRODUCER_PROFILE.md, wave 10): it scans each byte in a JavaScript
 * loop, copies every literal with `Buffer.concat` even when it sits whole in
 * one chunk (a new buffer costs Deno 1–3 µs), and takes a stream push, a
 * `readable` event and several promises per response. Here:
 *
 * - line ends are found with `indexOf`;
 * - a literal that sits whole in one chunk is a view of it (chunks are fresh
 *   buffers of the bytes read, so a view holds no more than its chunk); one
 *   spread over chunks is still joined;
 * - a complete response is first offered to `take` (the row reader takes the
 *   rows of the producer's own FETCH commands there, synchronously); only the
 *   others go down imapflow's stream to its reader, as before, and the next
 *   response waits until imapflow has handled that one, so order is kept.
 *
 * What stays imapflow's: the state (its fields, so its `destroy()` and
 * everything reading them keep working), the literal-marker check and the
 * line, literal and response size limits (its own methods are called), the
 * items it pushes (`payload` without the final CRLF, `literals`, `next`,
 * `trailingAfterLine`), the chunk queue and its backpressure. Those are
 * internals of imapflow 2.10 (pinned in deno.json): when the stream lacks
 * any of them, {@link installResponseFraming} leaves imapflow's framing in
 * place and says so.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { ImapFlow } from "imapflow";

/** One complete response, as imapflow's reader receives it. */
export interface FramedResponse {
  /** The response's lines, literal markers included, without the final line end. */
  readonly payload: Uint8Array;
  /** Each `{n}` literal's bytes, in order. */
  readonly literals: Uint8Array[];
}

/**
 * Offered every complete response before imapflow sees it. Returns `true`
 * when it handled the response, which then goes no further.
 */
export type ResponseTaker = (response: FramedResponse) => boolean;

const LINE = 0x01;
const LITERAL = 0x02;
const LF = 0x0a;
const CR = 0x0d;

/** The members of imapflow 2.10's `ImapStream` the framing reads and writes. */
interface ImapStreamInternals {
  destroyed: boolean;
  state: number;
  literalWaiting: number;
  inputBuffer: Uint8Array[];
  lineBuffer: Uint8Array[];
  lineBytes: number;
  literalBuffer: Uint8Array[];
  literals: Uint8Array[];
  responseBytes: number;
  inputQueue: unknown[];
  pendingPush: (() => void) | null;
  processInputChunk(chunk: Uint8Array): Promise<void>;
  checkLiteralMarker(line: Uint8Array): boolean;
  checkLineLength(length: number): boolean;
  checkResponseSize(bytes: number, peek?: boolean): boolean;
  push(item: unknown): boolean;
}

const METHODS = [
  "processInputChunk",
  "checkLiteralMarker",
  "checkLineLength",
  "checkResponseSize",
  "push",
] as const;
const ARRAYS = ["inputBuffer", "lineBuffer", "literalBuffer", "literals", "inputQueue"] as const;
const NUMBERS = ["state", "literalWaiting", "lineBytes", "responseBytes"] as const;

const framed = new WeakSet<object>();

/**
 * Frames the responses of `client`'s connection ourselves from its next
 * chunk on, offering each to `take` first (idempotent: a second call keeps
 * the first `take`). Returns `false`, and changes nothing, when this
 * imapflow's stream is not the one this was written against.
 */
export function installResponseFraming(client: ImapFlow, take: ResponseTaker): boolean {
  const stream = (client as unknown as { streamer?: ImapStreamInternals }).streamer;
  if (!stream || !looksLikeImapStream(stream)) return false;
  if (framed.has(stream)) return true;
  framed.add(stream);
  stream.processInputChunk = function (this: ImapStreamInternals, chunk: Uint8Array) {
    return frameChunk(this, chunk, take);
  };
  return true;
}

/** Whether `client`'s responses go through {@link installResponseFraming}. */
export function hasResponseFraming(client: ImapFlow): boolean {
  const stream = (client as unknown as { streamer?: object }).streamer;
  return stream !== undefined && framed.has(stream);
}

function looksLikeImapStream(stream: ImapStreamInternals): boolean {
  const fields = stream as unknown as Record<string, unknown>;
  return METHODS.every((name) => typeof fields[name] === "function") &&
    ARRAYS.every((name) => Array.isArray(fields[name])) &&
    NUMBERS.every((name) => typeof fields[name] === "number") &&
    (stream.state === LINE || stream.state === LITERAL);
}

const indexOfByte = Uint8Array.prototype.indexOf;

/**
 * Reads one chunk: literal bytes while a literal is awaited, otherwise lines.
 * Awaits only when a response goes down imapflow's stream.
 */
async function frameChunk(
  stream: ImapStreamInternals,
  chunk: Uint8Array,
  take: ResponseTaker,
): Promise<void> {
  let at = 0;
  while (at < chunk.length && !stream.destroyed) {
    if (stream.state === LITERAL) {
      at = readLiteral(stream, chunk, at);
      continue;
    }
    const lf: number = indexOfByte.call(chunk, LF, at);
    if (lf < 0) {
      keepLineTail(stream, chunk.subarray(at));
      return;
    }
    const line = completeLine(stream, chunk.subarray(at, lf + 1));
    at = lf + 1;
    if (!line) return;
    const literal = stream.checkLiteralMarker(line);
    if (stream.destroyed) return;
    if (!stream.checkResponseSize(line.length + (literal ? stream.literalWaiting : 0))) return;
    stream.inputBuffer.push(line);
    if (literal) continue;
    const response = finishResponse(stream);
    if (!response || take(response)) continue;
    await pushToImapflow(stream, response, at < chunk.length || stream.inputQueue.length > 0);
  }
}

/** Takes the awaited literal's bytes from `chunk` at `at`; returns where reading goes on. */
function readLiteral(stream: ImapStreamInternals, chunk: Uint8Array, at: number): number {
  const end = Math.min(chunk.length, at + stream.literalWaiting);
  const bytes = at === 0 && end === chunk.length ? chunk : chunk.subarray(at, end);
  stream.literalWaiting -= end - at;
  if (stream.literalWaiting > 0) {
    stream.literalBuffer.push(bytes);
    return end;
  }
  const parts = stream.literalBuffer;
  if (parts.length === 0) stream.literals.push(bytes);
  else {
    parts.push(bytes);
    stream.literals.push(Buffer.concat(parts));
    stream.literalBuffer = [];
  }
  stream.state = LINE;
  return end;
}

/** A line's bytes ending in LF, joined with what earlier chunks held of it; `undefined` past the line limit. */
function completeLine(stream: ImapStreamInternals, end: Uint8Array): Uint8Array | undefined {
  if (!stream.checkLineLength(stream.lineBytes + end.length)) return undefined;
  if (stream.lineBuffer.length === 0) return end;
  stream.lineBuffer.push(end);
  const line = Buffer.concat(stream.lineBuffer);
  stream.lineBuffer = [];
  stream.lineBytes = 0;
  return line;
}

/** Holds the start of a line the chunk ends in, within the line and response limits. */
function keepLineTail(stream: ImapStreamInternals, tail: Uint8Array): void {
  const held = stream.lineBytes + tail.length;
  if (!stream.checkLineLength(held) || !stream.checkResponseSize(held, true)) return;
  stream.lineBytes = held;
  stream.lineBuffer.push(tail);
}

/** The response the buffered lines and literals make, without its final line end; resets them. */
function finishResponse(stream: ImapStreamInternals): FramedResponse | undefined {
  const lines = stream.inputBuffer;
  const literals = stream.literals;
  stream.inputBuffer = [];
  stream.literals = [];
  stream.responseBytes = 0;
  const whole = lines.length === 1 ? lines[0]! : Buffer.concat(lines);
  let end = whole.length - 1; // the LF
  if (end > 0 && whole[end - 1] === CR) end--;
  // An empty line is no response; imapflow skips it too.
  return end > 0 ? { payload: whole.subarray(0, end), literals } : undefined;
}

/** Hands `response` to imapflow's reader and waits until it has handled it. */
async function pushToImapflow(
  stream: ImapStreamInternals,
  response: FramedResponse,
  trailingAfterLine: boolean,
): Promise<void> {
  await new Promise<void>((next) => {
    // imapflow's destroy() settles this, so a closed connection does not leave the chunk waiting.
    stream.pendingPush = next;
    stream.push({ ...response, next, trailingAfterLine });
  });
  stream.pendingPush = null;
}
