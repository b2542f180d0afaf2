/**
 * Property-based and mutation fuzzing of the request parser
 * (`lib/parser.ts` RequestParser with the `lib/receiver.ts` body decoders).
 *
 * This module holds the generators, the stream harness, the independent
 * reference checks and the properties. `tests/fuzz.test.ts` runs them briefly
 * in CI; run this file for the long, opt-in campaign:
 *
 *   node scripts/fuzz.ts --runs 1000000 [--seed N] [--batch 5000]
 *   deno run -A scripts/fuzz.ts --runs 100000
 *   bun scripts/fuzz.ts --runs 100000
 *
 * It prints progress and a summary and exits 1 on a counterexample (printed
 * with the seed and path that replay it).
 *
 * @module
 */
import fc from "fast-check";
import { Buffer } from "node:buffer";
import process from "node:process";
import { type BodySink, type HttpError, type ParserLimits, type RequestHead, RequestParser } from "../lib/parser.ts";

// ---------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------

/** Latin-1 bytes of a string (each char code 0-255 is one byte). */
export function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** One char per byte. */
export function toLatin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 4096)));
  }
  return s;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A sink that keeps copies, as the BodySink contract requires (tests/parser.test.ts uses it too). */
export class ArraySink implements BodySink {
  chunks: Uint8Array[] = [];
  length = 0;
  append(chunk: Uint8Array): void {
    // Not chunk.slice(): on a node:buffer Buffer that is a view, not a copy.
    this.chunks.push(new Uint8Array(chunk));
    this.length += chunk.length;
  }
  bytes(): Uint8Array {
    return concat(this.chunks);
  }
}

// ---------------------------------------------------------------------------
// The stream harness: feeds bytes the way lib/channel.ts does
// ---------------------------------------------------------------------------

/** What a parser ended with (or was left at), in a form `deepEqual` can compare. */
export interface ParserOutcome {
  consumed: number;
  completed: boolean;
  headersComplete: boolean;
  empty: boolean;
  error: HttpError | null;
  head: RequestHead | null;
  /** Body bytes as latin-1 text, or null when the parser made no sink. */
  body: string | null;
}

/** What one parser of a stream ended with (or was left at, for the last, incomplete one). */
export interface RequestOutcome extends ParserOutcome {
  /** Offset of this request's first byte in the stream. */
  start: number;
}

/** Everything a stream produced, in order; the last entry may be incomplete. */
export interface StreamOutcome {
  requests: RequestOutcome[];
  /** Bytes taken from the stream (the channel stops reading after an error). */
  consumed: number;
  /** Longest single received() call, in ms (for the no-hang property). */
  maxCallMs: number;
}

/** How the bytes are delivered. */
export interface Delivery {
  /** Offsets where the stream is cut into separate reads. */
  cuts: number[];
  /** Deliver node:buffer Buffers (the Node/Bun socket type) rather than plain Uint8Arrays. */
  asBuffer: boolean;
  /** Deliver each read in one reused buffer that is scribbled over after the call (a transient read buffer). */
  scratch: boolean;
}

/** The whole stream in one read. */
export const WHOLE: Delivery = { cuts: [], asBuffer: false, scratch: false };

/** Violations found by the harness itself (contract of received()). */
export class PropertyViolation extends Error {}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new PropertyViolation(message);
}

/** What `parser` saw after `consumed` bytes; its body must be an ArraySink (tests/parser.test.ts uses it too). */
export function parserOutcome(parser: RequestParser, consumed: number): ParserOutcome {
  const body = parser.body;
  return {
    consumed,
    completed: parser.completed,
    headersComplete: parser.headersComplete,
    empty: parser.empty,
    error: parser.error,
    head: parser.head,
    body: body === null ? null : toLatin1((body as ArraySink).bytes()),
  };
}

function snapshot(parser: RequestParser, start: number, consumed: number): RequestOutcome {
  return { start, ...parserOutcome(parser, consumed) };
}

/**
 * Feeds `data` cut at `delivery.cuts` to a succession of parsers, as the
 * channel does: a completed parser hands the rest of the read to a new one;
 * an error stops the stream. Checks the received() contract as it goes.
 */
export function runStream(data: Uint8Array, limits: ParserLimits, delivery: Delivery = WHOLE): StreamOutcome {
  const cuts = [...new Set(delivery.cuts.filter((c) => c > 0 && c < data.length))].sort((a, b) => a - b);
  const bounds = [0, ...cuts, data.length];
  const scratch = delivery.scratch ? new Uint8Array(data.length) : null;
  const requests: RequestOutcome[] = [];
  let parser: RequestParser | null = null;
  let start = 0;
  let consumed = 0;
  let total = 0;
  let maxCallMs = 0;
  let steps = 0;
  outer: for (let k = 0; k + 1 < bounds.length; k++) {
    const original = data.subarray(bounds[k], bounds[k + 1]);
    let piece: Uint8Array = original;
    if (scratch !== null) {
      scratch.set(original);
      piece = scratch.subarray(0, original.length);
    }
    if (delivery.asBuffer) piece = Buffer.from(piece.buffer, piece.byteOffset, piece.length);
    let offset = 0;
    while (offset < piece.length) {
      check(++steps <= data.length + 2 * bounds.length + 2, "the stream makes no progress");
      if (parser === null) {
        parser = new RequestParser(limits, () => new ArraySink());
        start = total;
        consumed = 0;
      }
      const view = offset === 0 ? piece : piece.subarray(offset);
      const t0 = performance.now();
      const used = parser.received(view);
      const ms = performance.now() - t0;
      if (ms > maxCallMs) maxCallMs = ms;
      check(Number.isInteger(used) && used >= 0 && used <= view.length, `received() returned ${used}`);
      offset += used;
      consumed += used;
      total += used;
      if (parser.completed) {
        if (used < view.length) {
          check(parser.received(view.subarray(used)) === 0, "a completed parser consumed more bytes");
        }
        requests.push(snapshot(parser, start, consumed));
        const failed = parser.error !== null;
        check(failed || parser.head !== null, "completed without head or error");
        parser = null;
        if (failed) break outer;
      } else {
        check(used === view.length, "an incomplete parser left bytes behind");
        check(parser.error === null, "error set on an incomplete parser");
      }
    }
    if (scratch !== null) scratch.fill(0xa5);
  }
  if (parser !== null) requests.push(snapshot(parser, start, consumed));
  return { requests, consumed: total, maxCallMs };
}

/** The outcome without timing, for comparisons between deliveries. */
export function comparable(out: StreamOutcome): { requests: RequestOutcome[]; consumed: number } {
  return { requests: out.requests, consumed: out.consumed };
}

// ---------------------------------------------------------------------------
// Independent reference checks for accepted requests
// ---------------------------------------------------------------------------

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A CTL other than HTAB, or DEL. */
function isCtl(c: number): boolean {
  return (c < 0x20 && c !== 0x09) || c === 0x7f;
}

/**
 * `field-name ":" OWS field-value OWS` without its CRLF, checked by hand
 * (RFC 9112 section 5, RFC 9110 section 5.5): returns [name, trimmed value]
 * or a reason.
 */
function referenceFieldLine(line: string): [string, string] | string {
  const colon = line.indexOf(":");
  if (colon <= 0) return "no field name";
  const name = line.slice(0, colon);
  if (!TCHAR.test(name)) return `field name ${JSON.stringify(name)} is not a token`;
  const value = line.slice(colon + 1);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 13 || c === 10) return "bare CR or LF in a field line";
    if (isCtl(c)) return `CTL 0x${c.toString(16)} in a field value`;
    if (c > 0xff) return "non-latin-1";
  }
  return [name, value.replace(/^[ \t]+|[ \t]+$/g, "")];
}

const CHUNK_EXT = new RegExp(
  "^(?:[ \\t]*;[ \\t]*[!#$%&'*+\\-.^_`|~0-9A-Za-z]+(?:[ \\t]*=[ \\t]*(?:[!#$%&'*+\\-.^_`|~0-9A-Za-z]+|" +
    '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"))?)*$',
);

/**
 * A strict, whole-input chunked decoder written from RFC 9112 section 7.1,
 * independent of lib/receiver.ts: returns the decoded body and the framing
 * length, or a reason why the bytes are not a complete chunked body.
 */
export function referenceChunked(s: string): { body: string; length: number } | string {
  let pos = 0;
  let body = "";
  for (let guard = 0; guard <= s.length; guard++) {
    const crlf = s.indexOf("\r\n", pos);
    if (crlf === -1) return "incomplete size line";
    const line = s.slice(pos, crlf);
    if (/[\r\n]/.test(line)) return "bare CR or LF in a size line";
    const m = /^([0-9A-Fa-f]+)(.*)$/s.exec(line);
    if (m === null) return `invalid chunk size line ${JSON.stringify(line)}`;
    if (!CHUNK_EXT.test(m[2])) return `invalid chunk extension ${JSON.stringify(m[2])}`;
    const size = BigInt("0x" + m[1]);
    pos = crlf + 2;
    if (size === 0n) {
      for (let g = 0; g <= s.length; g++) {
        const end = s.indexOf("\r\n", pos);
        if (end === -1) return "incomplete trailer section";
        const trailer = s.slice(pos, end);
        pos = end + 2;
        if (trailer === "") return { body, length: pos };
        if (trailer.charCodeAt(0) === 0x20 || trailer.charCodeAt(0) === 0x09) return "obs-fold in trailers";
        const field = referenceFieldLine(trailer);
        if (typeof field === "string") return `trailer: ${field}`;
      }
      return "trailer loop bound";
    }
    if (size > BigInt(s.length - pos)) return "incomplete chunk data";
    const n = Number(size);
    body += s.slice(pos, pos + n);
    pos += n;
    if (s.slice(pos, pos + 2) !== "\r\n") return "chunk data not followed by CRLF";
    pos += 2;
  }
  return "chunk loop bound";
}

/**
 * For a request the parser accepted, re-derives everything from the raw
 * bytes with independent code and checks the framing is unambiguous:
 * CRLF-only lines, no obs-fold, no CTLs in values, token names, never CL and
 * TE together, TE only as exactly `chunked` on HTTP/1.1, CL only as 1*DIGIT,
 * and the same head fields, body and consumed count as the parser.
 * Returns null, or the reason the acceptance is wrong.
 */
export function checkAccepted(data: Uint8Array, r: RequestOutcome): string | null {
  const head = r.head;
  if (head === null || r.error !== null || !r.completed) return "not an accepted request";
  const s = toLatin1(data.subarray(r.start, r.start + r.consumed));
  let pos = 0;
  while (s.startsWith("\r\n", pos)) pos += 2;
  const headEnd = s.indexOf("\r\n\r\n", pos);
  if (headEnd === -1) return "accepted without a CRLFCRLF";
  const headText = s.slice(pos, headEnd + 2);
  const lines = headText.split("\r\n");
  lines.pop(); // "" after the final CRLF
  for (const line of lines) if (/[\r\n]/.test(line)) return `bare CR or LF in ${JSON.stringify(line)}`;
  const rl = /^([!#$%&'*+\-.^_`|~0-9A-Z]+) ([\x21-\x7e]+) HTTP\/1\.([01])$/.exec(lines[0]);
  if (rl === null) return `accepted request line ${JSON.stringify(lines[0])}`;
  if (rl[1] !== head.method || rl[2] !== head.target || `1.${rl[3]}` !== head.version) return "request line fields";
  const headers: string[] = [];
  let te: string[] | null = null;
  let cl: string[] = [];
  let hosts = 0;
  for (const line of lines.slice(1)) {
    if (line.charCodeAt(0) === 0x20 || line.charCodeAt(0) === 0x09) return `obs-fold accepted: ${JSON.stringify(line)}`;
    const field = referenceFieldLine(line);
    if (typeof field === "string") return `${field}: ${JSON.stringify(line)}`;
    const [name, value] = field;
    if (name.includes("_")) continue;
    const lower = name.toLowerCase();
    headers.push(lower, value);
    if (lower === "transfer-encoding") te = [...(te ?? []), ...value.split(",")];
    if (lower === "content-length") cl = [...cl, value];
    if (lower === "host") hosts++;
  }
  if (JSON.stringify(headers) !== JSON.stringify(head.headers)) return "header list differs";
  if (head.version === "1.1" && hosts !== 1) return `HTTP/1.1 accepted with ${hosts} Host fields`;
  if (hosts > 1) return "several Host fields accepted";
  if (te !== null && cl.length > 0) return "Content-Length and Transfer-Encoding both accepted";
  if (cl.length > 1) return "several Content-Length fields accepted";
  const body = s.slice(headEnd + 4);
  if (te !== null) {
    const codings = te.map((c) => c.replace(/^[ \t]+|[ \t]+$/g, "")).filter((c) => c !== "");
    if (head.version !== "1.1") return "Transfer-Encoding accepted on HTTP/1.0";
    if (codings.length !== 1 || codings[0].toLowerCase() !== "chunked") {
      return `Transfer-Encoding ${JSON.stringify(te.join(","))} accepted`;
    }
    if (!head.chunked || head.contentLength !== -1) return "chunked not reported";
    const decoded = referenceChunked(body);
    if (typeof decoded === "string") return `chunked body accepted by the parser, not by the reference: ${decoded}`;
    if (decoded.length !== body.length) {
      return `chunked framing length: reference ${decoded.length}, parser ${body.length}`;
    }
    if ((r.body ?? "") !== decoded.body) return "chunked body bytes differ";
    return null;
  }
  if (head.chunked) return "chunked without Transfer-Encoding";
  if (cl.length === 1) {
    if (!/^[0-9]+$/.test(cl[0])) return `Content-Length ${JSON.stringify(cl[0])} accepted`;
    const n = Number(cl[0]);
    if (head.contentLength !== n) return "contentLength differs";
    if (body.length !== n) return `Content-Length ${n} but ${body.length} body bytes consumed`;
    if (n > 0 && r.body !== body) return "body bytes differ";
    if (n === 0 && r.body !== null) return "a sink for an empty body";
    return null;
  }
  if (head.contentLength !== -1) return "contentLength without the header";
  if (body.length !== 0 || r.body !== null) return "a body without framing";
  return null;
}

/**
 * Re-serialises an accepted request (request line, `name:value` fields,
 * body re-framed the same way) and parses it again: the result must be the
 * same head and body. The form is never longer than the original head, so
 * limits cannot turn it into an error.
 */
export function reserialise(r: RequestOutcome): Uint8Array {
  const head = r.head as RequestHead;
  let text = `${head.method} ${head.target} HTTP/${head.version}\r\n`;
  for (let i = 0; i < head.headers.length; i += 2) text += `${head.headers[i]}:${head.headers[i + 1]}\r\n`;
  text += "\r\n";
  const body = r.body ?? "";
  if (head.chunked) text += (body.length > 0 ? `${body.length.toString(16)}\r\n${body}\r\n` : "") + "0\r\n\r\n";
  else text += body;
  return latin1(text);
}

// ---------------------------------------------------------------------------
// Generators: valid requests
// ---------------------------------------------------------------------------

/** A generated valid request and what the parser must make of it. */
export interface RequestModel {
  bytes: Uint8Array;
  method: string;
  target: string;
  version: "1.0" | "1.1";
  /** Expected head.headers. */
  headers: string[];
  contentLength: number;
  chunked: boolean;
  body: string;
}

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const UPPER_TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const FRAMING_NAMES = ["host", "content-length", "content-type", "transfer-encoding", "connection", "expect"];

function charsOf(alphabet: string, min: number, max: number): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...alphabet.split("")), { minLength: min, maxLength: max }).map((a) => a.join(""));
}

const ows = fc.constantFrom("", "", " ", "  ", "\t", " \t");
const tokenArb = charsOf(TCHARS, 1, 12);

const methodArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE") },
  { weight: 1, arbitrary: charsOf(UPPER_TCHARS, 1, 10).filter((m) => m !== "CONNECT") },
);

const pathCharArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(..."abcxyz019/-._~%?=&+;,:@!$'()*[]#".split("")) },
  { weight: 1, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
);

const targetArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.array(pathCharArb, { maxLength: 40 }).map((a) => "/" + a.join("")) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom("http", "https", "h2c+x.y"), charsOf("abc.-019", 1, 12), fc.array(pathCharArb))
      .map(([scheme, host, path]) => `${scheme}://${host}/${path.join("")}`),
  },
);

const hostArb: fc.Arbitrary<string> = fc.oneof(
  // An empty host takes no port: RFC 9110 section 4.2.1 refuses an http URI with an empty host, and ":80" would be one.
  fc.tuple(charsOf("abcxyz0189.-_~!$&'()*+,;=", 0, 20), fc.option(fc.integer({ min: 0, max: 99999 }))).map((
    [h, p],
  ) => p === null || h === "" ? h : `${h}:${p}`),
  fc.constantFrom("[::1]:8080", "127.0.0.1", "localhost:80", "%41b", "[v1.x]"),
);

const fieldCharArb = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
).map((c) => String.fromCharCode(c));

/** field-value: field-vchars with single SP/HTAB runs between them (possibly empty). */
const fieldValueArb: fc.Arbitrary<string> = fc.array(
  fc.tuple(fc.constantFrom("", "", " ", "\t", "  "), fc.array(fieldCharArb, { minLength: 1, maxLength: 12 })),
  { maxLength: 4 },
).map((parts) => parts.map(([sep, word], i) => (i === 0 ? "" : sep || " ") + word.join("")).join(""));

const extraFieldArb: fc.Arbitrary<[string, string]> = fc.tuple(tokenArb, fieldValueArb).filter(([n]) =>
  !FRAMING_NAMES.includes(n.toLowerCase())
);

/** A chunk extension list that RFC 9112 section 7.1.1 and lib/receiver.ts both accept. */
const chunkExtArb: fc.Arbitrary<string> = fc.array(
  fc.tuple(
    fc.constantFrom("", " ", "\t"),
    tokenArb,
    fc.option(fc.oneof(
      tokenArb,
      fc.array(
        fc.oneof(
          fc.constantFrom("a", " ", "\t", ";", "=", ",", '\\"', "\\\\", "\xe9"),
          fieldCharArb.filter((c) => c !== '"' && c !== "\\"),
        ),
        { maxLength: 8 },
      ).map((a) => `"${a.join("")}"`),
    )),
  ),
  { maxLength: 3 },
).map((exts) =>
  // No whitespace between the size and the first ";": lib/receiver.ts refuses it, as waitress does.
  exts.map(([ws, name, value], i) => `${i === 0 ? "" : ws};${name}${value === null ? "" : "=" + value}`).join("")
);

const bodyArb: fc.Arbitrary<string> = fc.oneof(
  fc.constant(""),
  fc.uint8Array({ maxLength: 64 }).map(toLatin1),
  fc.constantFrom("0\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\r\n", "5\r\nhello\r\n0\r\n\r\n"),
  fc.uint8Array({ minLength: 100, maxLength: 600 }).map(toLatin1),
);

interface ChunkedPlan {
  sizes: number[];
  exts: string[];
  hexCase: boolean[];
  zeros: number[];
  trailers: Array<[string, string]>;
}

const chunkedPlanArb: fc.Arbitrary<ChunkedPlan> = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 6 }),
  exts: fc.array(chunkExtArb, { minLength: 8, maxLength: 8 }),
  hexCase: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  zeros: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
  trailers: fc.array(extraFieldArb, { maxLength: 2 }),
});

function encodeChunked(body: string, plan: ChunkedPlan): string {
  let out = "";
  let pos = 0;
  let k = 0;
  const hex = (n: number, i: number) => {
    const h = "0".repeat(plan.zeros[i % 8]) + n.toString(16);
    return plan.hexCase[i % 8] ? h.toUpperCase() : h;
  };
  while (pos < body.length) {
    const size = Math.min(plan.sizes.length ? plan.sizes[k % plan.sizes.length] : body.length, body.length - pos);
    out += `${hex(size, k)}${plan.exts[k % 8]}\r\n${body.slice(pos, pos + size)}\r\n`;
    pos += size;
    k++;
  }
  out += `${hex(0, k)}${plan.exts[k % 8]}\r\n`;
  for (const [n, v] of plan.trailers) out += `${n}:${v}\r\n`;
  return out + "\r\n";
}

/** A valid request, any framing, with its expected parse. */
export const requestArb: fc.Arbitrary<RequestModel> = fc.record({
  blank: fc.integer({ min: 0, max: 2 }),
  method: methodArb,
  target: targetArb,
  v11: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  host: fc.option(hostArb, { freq: 8 }),
  extras: fc.array(extraFieldArb, { maxLength: 6 }),
  optional: fc.subarray(["content-type", "connection", "expect"]),
  connection: fc.constantFrom("close", "keep-alive", "Keep-Alive, Upgrade", "close, foo"),
  expect: fc.constantFrom("100-continue", "100-Continue", "foo"),
  framing: fc.constantFrom("none", "length", "chunked", "chunked"),
  body: bodyArb,
  plan: chunkedPlanArb,
  te: fc.constantFrom("chunked", "Chunked", "CHUNKED", ", chunked", "chunked ,"),
  clPad: fc.integer({ min: 0, max: 2 }),
  owsL: fc.array(ows, { minLength: 12, maxLength: 12 }),
  owsR: fc.array(ows, { minLength: 12, maxLength: 12 }),
  order: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
  nameCase: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
}).map((g) => {
  const version = g.v11 ? "1.1" : "1.0";
  const fields: Array<[string, string]> = [...g.extras];
  if (g.host !== null || version === "1.1") fields.push(["Host", g.host ?? "example.com"]);
  for (const o of g.optional) {
    if (o === "content-type") fields.push(["Content-Type", "text/plain; charset=utf-8"]);
    if (o === "connection") fields.push(["Connection", g.connection]);
    if (o === "expect") fields.push(["Expect", g.expect]);
  }
  const framing = version === "1.0" && g.framing === "chunked" ? "length" : g.framing;
  const body = framing === "none" ? "" : g.body;
  if (framing === "length") fields.push(["Content-Length", "0".repeat(g.clPad) + String(body.length)]);
  if (framing === "chunked") fields.push(["Transfer-Encoding", g.te]);
  // Shuffle deterministically from the generated keys.
  const keyed = fields.map((f, i) => ({ f, k: g.order[i % 12] * 64 + i }));
  keyed.sort((a, b) => a.k - b.k);
  let text = "\r\n".repeat(g.blank) + `${g.method} ${g.target} HTTP/${version}\r\n`;
  const headers: string[] = [];
  keyed.forEach(({ f: [name, value] }, i) => {
    const sent = g.nameCase[i % 12] ? name.toUpperCase() : name;
    text += `${sent}:${g.owsL[i % 12]}${value}${g.owsR[i % 12]}\r\n`;
    if (!name.includes("_")) headers.push(name.toLowerCase(), value);
  });
  text += "\r\n";
  if (framing === "length") text += body;
  if (framing === "chunked") text += encodeChunked(body, g.plan);
  return {
    bytes: latin1(text),
    method: g.method,
    target: g.target,
    version,
    headers,
    contentLength: framing === "length" ? body.length : -1,
    chunked: framing === "chunked",
    body,
  } satisfies RequestModel;
});

/** One to four valid requests back to back (pipelined). */
export const pipelineArb: fc.Arbitrary<RequestModel[]> = fc.array(requestArb, { minLength: 1, maxLength: 4 });

// ---------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------

/** Bytes that matter for HTTP framing and for past smuggling bugs. */
const SPECIAL_BYTES = [13, 10, 0, 32, 9, 0x85, 0x0b, 0x0c, 0x7f, 0xa0, 58, 44, 59, 61, 34, 92, 48, 97, 70, 45, 43];

/** Whole lines that past request-smuggling attacks used. */
const HOSTILE_LINES = [
  "Content-Length: 5",
  "Content-Length: 0",
  "Content-Length: 1, 1",
  "Content-Length: +5",
  "Content-Length: 0x5",
  "Content-Length:  5 ",
  "Content-Length: 99999999999999999999",
  "Transfer-Encoding: chunked",
  "Transfer-Encoding: chunked, chunked",
  "Transfer-Encoding: gzip, chunked",
  "Transfer-Encoding: chunked, gzip",
  "Transfer-Encoding: identity",
  "Transfer-Encoding: \x85chunked",
  "Transfer-Encoding: \x0bchunked",
  "Transfer-Encoding: chunked\x85",
  "Transfer-Encoding : chunked",
  "Transfer-Encoding:\tchunked",
  "Transfer-Encoding:",
  "Transfer_Encoding: chunked",
  " chunked",
  "\tContent-Length: 3",
  "Host: other",
  "Host: a b",
  "Expect: 100-continue",
  "Connection: close",
  "X: a\rb",
  "X: a\nContent-Length: 3",
  "X: \x00",
  ": empty",
  "X-Big: " + "v".repeat(9000),
];

/** One edit to a byte stream; positions are taken modulo the length. */
export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "insert"; at: number; byte: number }
  | { kind: "set"; at: number; byte: number }
  | { kind: "delete"; at: number; count: number }
  | { kind: "truncate"; at: number }
  | { kind: "dupLine"; line: number }
  | { kind: "swapLines"; a: number; b: number }
  | { kind: "dropLine"; line: number }
  | { kind: "insertLine"; line: number; text: string }
  | { kind: "crlf"; nth: number; to: string }
  | { kind: "insertText"; at: number; text: string };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), byte: fc.constantFrom(...SPECIAL_BYTES) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.constantFrom(...SPECIAL_BYTES) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("dupLine" as const), line: fc.nat(20) }),
  fc.record({ kind: fc.constant("swapLines" as const), a: fc.nat(20), b: fc.nat(20) }),
  fc.record({ kind: fc.constant("dropLine" as const), line: fc.nat(20) }),
  fc.record({ kind: fc.constant("insertLine" as const), line: fc.nat(20), text: fc.constantFrom(...HOSTILE_LINES) }),
  fc.record({ kind: fc.constant("crlf" as const), nth: fc.nat(20), to: fc.constantFrom("\n", "\r", "\r\r\n", "\n\r") }),
  fc.record({
    kind: fc.constant("insertText" as const),
    at: fc.nat(),
    text: fc.constantFrom("ffffffffffffffffff", "00000000000000000005", "0x", "+", " ", ";", ';a="', ";a=\x01", "\r\n"),
  }),
);

function splitLines(s: string): string[] {
  return s.split("\r\n");
}

/** Applies one mutation (pure). */
export function mutate(data: Uint8Array, m: Mutation): Uint8Array {
  const n = data.length;
  const s = toLatin1(data);
  switch (m.kind) {
    case "flip": {
      if (n === 0) return data;
      const out = data.slice();
      out[m.at % n] ^= 1 << m.bit;
      return out;
    }
    case "insert":
      return latin1(s.slice(0, m.at % (n + 1)) + String.fromCharCode(m.byte) + s.slice(m.at % (n + 1)));
    case "set": {
      if (n === 0) return data;
      const out = data.slice();
      out[m.at % n] = m.byte;
      return out;
    }
    case "delete": {
      if (n === 0) return data;
      const at = m.at % n;
      return latin1(s.slice(0, at) + s.slice(at + m.count));
    }
    case "truncate":
      return data.subarray(0, m.at % (n + 1));
    case "insertText":
      return latin1(s.slice(0, m.at % (n + 1)) + m.text + s.slice(m.at % (n + 1)));
    case "crlf": {
      const count = s.split("\r\n").length - 1;
      if (count === 0) return data;
      let nth = m.nth % count;
      return latin1(s.replace(/\r\n/g, (x) => (nth-- === 0 ? m.to : x)));
    }
  }
  const lines = splitLines(s);
  const k = lines.length;
  switch (m.kind) {
    case "dupLine": {
      const i = m.line % k;
      lines.splice(i, 0, lines[i]);
      break;
    }
    case "swapLines": {
      const a = m.a % k;
      const b = m.b % k;
      [lines[a], lines[b]] = [lines[b], lines[a]];
      break;
    }
    case "dropLine":
      lines.splice(m.line % k, 1);
      break;
    case "insertLine":
      lines.splice(1 + (m.line % k), 0, m.text);
      break;
  }
  return latin1(lines.join("\r\n"));
}

/** A pipelined stream of valid requests, then up to four mutations. */
export const mutatedArb: fc.Arbitrary<{ models: RequestModel[]; mutations: Mutation[]; bytes: Uint8Array }> = fc
  .tuple(pipelineArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
  .map(([models, mutations]) => {
    let bytes = concat(models.map((m) => m.bytes));
    for (const m of mutations) bytes = mutate(bytes, m);
    return { models, mutations, bytes };
  });

/** Bytes from an HTTP-ish alphabet, for inputs no generator would think of. */
export const noiseArb: fc.Arbitrary<Uint8Array> = fc.array(
  fc.oneof(
    fc.constantFrom(..."GET POST / HTTP/1.1 Host: x Transfer-Encoding: chunked Content-Length: 5 0 \r\n".split(" ")),
    fc.constantFrom("\r\n", "\r", "\n", " ", "\t", ":", ";", "0", "5", "a", "\r\n\r\n", "\x00", "\x85", '"'),
    fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
  ),
  { maxLength: 80 },
).map((parts) => latin1(parts.join("")));

/** Limits: the defaults, and small ones so that 413/431 and the chunk framing budget get hit. */
export const limitsArb: fc.Arbitrary<ParserLimits> = fc.record({
  maxRequestHeaderSize: fc.constantFrom(8192, 8192, 8192, 8192, 1024, 200, 64),
  maxRequestBodySize: fc.constantFrom(1073741824, 1 << 20, 1 << 20, 1 << 20, 300, 10, 0),
});

/** Cut points and delivery style. */
export const deliveryArb: fc.Arbitrary<Delivery> = fc.record({
  cuts: fc.array(fc.nat(20000), { maxLength: 12 }),
  asBuffer: fc.boolean(),
  scratch: fc.boolean(),
});

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

/** Inputs up to this size are also fed one byte at a time. */
export const BYTEWISE_MAX = 512;

/** No single received() call may take this long (a hang, or super-linear work). */
export const MAX_CALL_MS = 250;

function fail(message: string, detail?: unknown): never {
  throw new PropertyViolation(detail === undefined ? message : `${message}\n${JSON.stringify(detail, null, 1)}`);
}

function sameOutcome(a: StreamOutcome, b: StreamOutcome, what: string): void {
  const x = JSON.stringify(comparable(a));
  const y = JSON.stringify(comparable(b));
  if (x !== y) fail(`split invariance broken (${what})`, { whole: comparable(a), other: comparable(b) });
}

/**
 * The core checks for any byte stream: no exception escapes, no slow call,
 * the outcome does not depend on how the bytes are cut or which buffer type
 * carries them, and every accepted request is unambiguous (reference check)
 * and survives re-serialisation.
 */
export function checkStream(data: Uint8Array, limits: ParserLimits, delivery: Delivery): StreamOutcome {
  const whole = runStream(data, limits, WHOLE);
  const other = runStream(data, limits, delivery);
  sameOutcome(whole, other, `cuts ${JSON.stringify(delivery.cuts.map((c) => c % (data.length + 1)))}`);
  if (data.length <= BYTEWISE_MAX) {
    const bytewise = runStream(data, limits, {
      cuts: Array.from({ length: data.length }, (_, i) => i),
      asBuffer: false,
      scratch: true,
    });
    sameOutcome(whole, bytewise, "one byte at a time");
  }
  if (whole.maxCallMs > MAX_CALL_MS || other.maxCallMs > MAX_CALL_MS) {
    // A GC pause or a busy machine can stall one call; a real hang repeats. Fail only if
    // three more runs of the same input are all slow.
    let fastest = Infinity;
    for (let i = 0; i < 3 && fastest > MAX_CALL_MS; i++) {
      fastest = Math.min(
        fastest,
        runStream(data, limits, WHOLE).maxCallMs,
        runStream(data, limits, delivery).maxCallMs,
      );
    }
    if (fastest > MAX_CALL_MS) fail(`a received() call took ${fastest.toFixed(1)} ms (every time)`);
  }
  for (const r of whole.requests) {
    if (!r.completed || r.error !== null) continue;
    const reason = checkAccepted(data, r);
    if (reason !== null) fail(`accepted request violates the reference: ${reason}`, r);
    const again = runStream(reserialise(r), limits, WHOLE);
    const first = again.requests[0];
    if (
      again.requests.length !== 1 || !first.completed || first.error !== null ||
      JSON.stringify(first.head) !== JSON.stringify(r.head) || first.body !== r.body
    ) {
      fail("re-serialised request parses differently", { original: r, reparsed: again.requests });
    }
  }
  return whole;
}

/** Valid pipelines parse to exactly their models, however they are cut. */
export const validProperty: fc.IPropertyWithHooks<[RequestModel[], Delivery]> = fc.property(
  pipelineArb,
  deliveryArb,
  (models, delivery) => {
    const data = concat(models.map((m) => m.bytes));
    const limits: ParserLimits = { maxRequestHeaderSize: 1 << 16, maxRequestBodySize: 1 << 20 };
    const out = checkStream(data, limits, delivery);
    if (out.requests.length !== models.length) {
      fail(`${models.length} requests sent, ${out.requests.length} parsed`, out);
    }
    models.forEach((m, i) => {
      const r = out.requests[i];
      if (!r.completed || r.error !== null || r.head === null) fail(`valid request ${i} refused`, { model: m, r });
      const h = r.head;
      const got = [h.method, h.target, h.version, h.headers, h.contentLength, h.chunked, r.body ?? ""];
      const want = [m.method, m.target, m.version, m.headers, m.contentLength, m.chunked, m.body];
      if (JSON.stringify(got) !== JSON.stringify(want)) fail(`request ${i} parsed wrongly`, { want, got });
    });
    if (out.consumed !== data.length) fail("not all bytes consumed");
  },
);

/** Mutated pipelines: the core checks hold whatever the parser decides. */
export const mutatedProperty: fc.IPropertyWithHooks<
  [{ models: RequestModel[]; mutations: Mutation[]; bytes: Uint8Array }, ParserLimits, Delivery]
> = fc.property(mutatedArb, limitsArb, deliveryArb, (input, limits, delivery) => {
  checkStream(input.bytes, limits, delivery);
});

/** Noise: the core checks hold. */
export const noiseProperty: fc.IPropertyWithHooks<[Uint8Array, ParserLimits, Delivery]> = fc.property(
  noiseArb,
  limitsArb,
  deliveryArb,
  (bytes, limits, delivery) => {
    checkStream(bytes, limits, delivery);
  },
);

/** The properties by name, with their share of a long run. */
export const PROPERTIES: Array<{ name: string; share: number; property: fc.IPropertyWithHooks<never[]> }> = [
  { name: "valid pipelines", share: 0.3, property: validProperty as unknown as fc.IPropertyWithHooks<never[]> },
  { name: "mutated pipelines", share: 0.5, property: mutatedProperty as unknown as fc.IPropertyWithHooks<never[]> },
  { name: "noise", share: 0.2, property: noiseProperty as unknown as fc.IPropertyWithHooks<never[]> },
];

// ---------------------------------------------------------------------------
// The long run
// ---------------------------------------------------------------------------

function argValue(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const raw = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(name + "="))?.slice(name.length + 1);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`${name} needs a number, got ${raw}`);
    process.exit(2);
  }
  return n;
}

function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${process.version}`;
}

async function main(argv: string[]): Promise<number> {
  const runs = argValue(argv, "--runs", 100000);
  const batch = Math.max(1, argValue(argv, "--batch", 5000));
  const seed = argValue(argv, "--seed", Date.now() % 2147483647) | 0;
  console.log(`fuzz: ${runs} runs on ${runtimeName()}, seed ${seed}, batches of ${batch}`);
  const started = performance.now();
  let total = 0;
  let failures = 0;
  for (const [p, { name, share, property }] of PROPERTIES.entries()) {
    const target = Math.round(runs * share);
    const t0 = performance.now();
    let done = 0;
    for (let b = 0; done < target; b++) {
      const numRuns = Math.min(batch, target - done);
      const batchSeed = (seed + p * 1000003 + b * 7919) | 0;
      const result = await Promise.resolve(fc.check(property, { numRuns, seed: batchSeed, endOnFailure: false }));
      done += result.numRuns;
      if (result.failed) {
        failures++;
        console.log(
          `\nCOUNTEREXAMPLE in "${name}" (seed ${batchSeed}, path ${JSON.stringify(result.counterexamplePath)})`,
        );
        console.log(fc.stringify(result.counterexample));
        console.log(
          String(result.errorInstance instanceof Error ? result.errorInstance.message : result.errorInstance),
        );
        console.log(
          `replay: fc.check(property, { seed: ${batchSeed}, path: ${JSON.stringify(result.counterexamplePath)} })`,
        );
        break;
      }
      const s = (performance.now() - t0) / 1000;
      console.log(`  ${name}: ${done}/${target} (${s.toFixed(1)} s, ${Math.round(done / s)} runs/s)`);
    }
    total += done;
    console.log(`${name}: ${done} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (failures > 0) break;
  }
  const secs = (performance.now() - started) / 1000;
  console.log(
    `\nsummary: ${total} runs in ${secs.toFixed(1)} s on ${runtimeName()} (seed ${seed}): ` +
      (failures === 0 ? "no counterexample" : `${failures} counterexample(s)`),
  );
  return failures === 0 ? 0 : 1;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
