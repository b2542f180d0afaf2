/**
 * fast-check generators for the parser fuzzing: valid requests and
 * pipelines with their models, mutations of them (special bytes, hostile
 * lines, cut and duplicated framing), HTTP-alphabet noise, limits and
 * delivery styles.
 *
 * @module
 */
import fc from "fast-check";
import type { ParserLimits, RequestHead } from "../../lib/parser.ts";
import { concatBytes, latin1, toLatin1 } from "./bytes.ts";
import type { Delivery } from "./parser_harness.ts";

/** A generated valid request and what the parser must make of it. */
export interface RequestModel
  extends Pick<RequestHead, "method" | "target" | "version" | "headers" | "contentLength" | "chunked"> {
  /** The request on the wire. */
  bytes: Uint8Array;
  /** The body the parser must deliver, as latin-1 text. */
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
    let bytes: Uint8Array = concatBytes(models.map((m) => m.bytes));
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
