/**
 * Parsing a complete request head: the request line, the header fields and
 * the framing rules (Host, Transfer-Encoding, Content-Length, Connection,
 * Expect), with waitress's strictness as the floor and RFC 9110/9112 where
 * waitress is laxer. Pure: the head's latin-1 text in, a {@link RequestHead}
 * or an {@link HttpError} out.
 *
 * @module
 */
import { badRequest, bodyTooLarge, type HttpError, notImplemented, versionNotSupported } from "./errors.ts";
import {
  authorityEnd,
  COLON,
  CR,
  invalidFieldTextAt,
  isDigit,
  isHostPort,
  isWhitespace,
  parseContentLength,
  parseTokenList,
  schemeLength,
  SLASH,
  SP,
  TOKEN_CHARS,
} from "./grammar.ts";
import { knownFieldName } from "./field_names.ts";

/** The limits the parser enforces (waitress's max_request_header_size / max_request_body_size). */
export interface ParserLimits {
  /** Largest head accepted, request line through the final CRLFCRLF, blank lines before it included. */
  maxRequestHeaderSize: number;
  /** Largest body accepted (declared Content-Length, or decoded chunked bytes). */
  maxRequestBodySize: number;
}

/** A parsed request head. */
export interface RequestHead {
  /** Method as sent (tchar+, upper-case). */
  method: string;
  /** Raw request-target, as sent. */
  target: string;
  /** Protocol version. */
  version: "1.0" | "1.1";
  /**
   * Flat `[name, value, name, value, ...]` in arrival order: names lower-cased,
   * values with SP/HTAB trimmed and latin-1 decoded; names containing "_" are
   * dropped (waitress). Framing headers are kept as sent.
   */
  headers: string[];
  /** Declared body length; -1 when absent or chunked. */
  contentLength: number;
  /** The body is `Transfer-Encoding: chunked` (HTTP/1.1 only). */
  chunked: boolean;
  /** HTTP/1.1 and `Expect: 100-continue` (case-insensitive). */
  expectContinue: boolean;
  /** What the request asks: HTTP/1.1 unless a "close" Connection token; HTTP/1.0 only with "keep-alive" (and no "close"). */
  keepAlive: boolean;
  /** Host header value, or null when absent. */
  host: string | null;
}

const UNDERSCORE = 95;

/** Header values that decide framing and connection handling, collected while scanning the fields. */
interface FramingFields {
  host: string | null;
  contentLength: string | null;
  contentType: boolean;
  transferEncoding: string | null;
  connection: string | null;
  expect: string | null;
}

/**
 * The framing fields of the head being parsed: one object for all heads,
 * reset at the start of each (a head is parsed in one synchronous call).
 */
const fields: FramingFields = {
  host: null,
  contentLength: null,
  contentType: false,
  transferEncoding: null,
  connection: null,
  expect: null,
};

function resetFields(): void {
  fields.host = null;
  fields.contentLength = null;
  fields.contentType = false;
  fields.transferEncoding = null;
  fields.connection = null;
  fields.expect = null;
}

/**
 * Parses a complete head (`s` is its latin-1 text, ending in CRLFCRLF) into a
 * RequestHead, or returns the error to answer with. Checks run in byte order
 * (request line, then each field line), then the framing rules.
 */
export function parseHead(s: string, limits: ParserLimits): RequestHead | HttpError {
  const lineEnd = s.indexOf("\n");
  if (s.charCodeAt(lineEnd - 1) !== CR) return badRequest("Bare CR or LF found in HTTP message", "1.0");
  const requestLine = parseRequestLine(s, lineEnd - 1);
  if ("status" in requestLine) return requestLine;
  const { method, target, version } = requestLine;
  const headers: string[] = [];
  resetFields();
  let pos = lineEnd + 1;
  for (;;) {
    const lf = s.indexOf("\n", pos);
    if (s.charCodeAt(lf - 1) !== CR) return badRequest("Bare CR or LF found in header line", version);
    if (lf - 1 === pos) break; // the empty line: end of the head
    const error = parseFieldLine(s, pos, lf - 1, headers, version);
    if (error !== null) return error;
    pos = lf + 1;
  }
  return applyFramingRules(method, target, version, headers, limits);
}

interface RequestLine {
  method: string;
  target: string;
  version: "1.0" | "1.1";
}

/**
 * `method SP request-target SP HTTP-version` (RFC 9112 section 3), exactly:
 * single spaces, no HTTP/0.9 form, `HTTP/` upper-case, one digit each side.
 */
function parseRequestLine(s: string, end: number): RequestLine | HttpError {
  const sp = s.indexOf(" ");
  const versionAt = end - 8; // "HTTP/D.D"
  const targetEnd = versionAt - 1;
  // sp > 0: a method; targetEnd > sp + 1: a target and only one space after the method.
  if (sp <= 0 || targetEnd <= sp + 1 || s.charCodeAt(targetEnd) !== SP || !isHttpVersion(s, versionAt)) {
    return invalidStartLine();
  }
  let nonAscii = false;
  for (let i = sp + 1; i < targetEnd; i++) {
    const c = s.charCodeAt(i);
    if (c <= SP || c === 0x7f) {
      return badRequest(c === CR ? "Bare CR or LF found in HTTP message" : "Start line is invalid", "1.0");
    }
    if (c >= 0x80) nonAscii = true;
  }
  let lowerCase = false;
  for (let i = 0; i < sp; i++) {
    const c = s.charCodeAt(i);
    if (TOKEN_CHARS[c] !== 1) return invalidStartLine();
    if (c >= 0x61 && c <= 0x7a) lowerCase = true;
  }
  // waitress: lower-case methods are refused rather than passed on (1.1.0).
  if (lowerCase) return badRequest(`Malformed HTTP method "${s.slice(0, sp)}"`, "1.0");
  const method = knownMethod(s, sp) ?? s.slice(0, sp);
  const major = s.charCodeAt(versionAt + 5) - 0x30;
  const minor = s.charCodeAt(versionAt + 7) - 0x30;
  // RFC 9110 section 2.5: a higher minor version of HTTP/1 is processed as HTTP/1.1, the highest we
  // support; another major version is refused.
  if (major !== 1) return versionNotSupported(major, minor);
  const version = minor === 0 ? "1.0" : "1.1";
  const target = s.slice(sp + 1, targetEnd);
  // waitress: raw non-ASCII bytes in the target are "Bad URI" (with the request's version).
  if (nonAscii || !isTargetFormAllowed(method, target)) return badRequest("Bad URI", version);
  return { method, target, version };
}

function invalidStartLine(): HttpError {
  return badRequest("Start line is invalid", "1.0");
}

/** The common methods, as constants: no slice for them, and comparisons with a literal are pointer checks. */
const METHODS: readonly string[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT"];

/** The method in METHODS equal to `s[0, length)`, or undefined. */
function knownMethod(s: string, length: number): string | undefined {
  for (let k = 0; k < METHODS.length; k++) {
    const m = METHODS[k];
    if (m.length === length && s.charCodeAt(0) === m.charCodeAt(0) && s.startsWith(m)) return m;
  }
  return undefined;
}

/** `HTTP/` DIGIT "." DIGIT at `s[at, at + 8)` (RFC 9112 section 2.3; the name is case-sensitive). */
function isHttpVersion(s: string, at: number): boolean {
  return s.charCodeAt(at) === 0x48 && s.charCodeAt(at + 1) === 0x54 && s.charCodeAt(at + 2) === 0x54 &&
    s.charCodeAt(at + 3) === 0x50 && s.charCodeAt(at + 4) === SLASH && isDigit(s.charCodeAt(at + 5)) &&
    s.charCodeAt(at + 6) === 0x2e && isDigit(s.charCodeAt(at + 7));
}

/**
 * RFC 9112 section 3.2: origin-form (starts with "/") and absolute-form for
 * any method except CONNECT, authority-form only (and always) for CONNECT,
 * asterisk-form only for OPTIONS.
 */
function isTargetFormAllowed(method: string, target: string): boolean {
  if (method === "CONNECT") return isHostPort(target, true);
  if (target.charCodeAt(0) === SLASH) return true;
  if (target === "*") return method === "OPTIONS";
  return isAbsoluteForm(target);
}

/**
 * `scheme "://" authority ...` with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 section 3.1),
 * and an authority that is a host, with an optional port. RFC 9110 section 4.2.1: an http URI has a non-empty
 * host; section 4.2.4: userinfo ("user@") is to be treated as an error (it hides the real authority).
 */
function isAbsoluteForm(target: string): boolean {
  const colon = schemeLength(target);
  return colon > 0 && target.charCodeAt(colon) === COLON && target.startsWith("//", colon + 1) &&
    isTargetAuthority(target, colon + 3);
}

/** The authority of an absolute-form target, from `start` on: a non-empty host[:port]. */
function isTargetAuthority(target: string, start: number): boolean {
  const end = authorityEnd(target, start);
  return end > start && isHostPort(target.slice(start, end), false);
}

/**
 * One field line `s[start, end)`: `field-name ":" OWS field-value OWS`
 * (RFC 9112 section 5), scanned once, linear in its length (CVE-2020-5236).
 * Appends the field to `headers` unless its name contains "_" (waitress),
 * and records the fields that decide framing.
 */
function parseFieldLine(
  s: string,
  start: number,
  end: number,
  headers: string[],
  version: "1.0" | "1.1",
): HttpError | null {
  const first = s.charCodeAt(start);
  // RFC 9112 section 5.2 lets a server reject obs-fold with 400; we do.
  if (isWhitespace(first)) return badRequest("Line folding (obs-fold) is not allowed", version);
  let i = start;
  let upperCase = false;
  let underscore = false;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (TOKEN_CHARS[c] !== 1) break;
    if (c >= 0x41 && c <= 0x5a) upperCase = true;
    else if (c === UNDERSCORE) underscore = true;
  }
  // Also catches whitespace before the colon and an empty name.
  if (i === start || i === end || s.charCodeAt(i) !== COLON) {
    return invalidFieldChar(i < end ? s.charCodeAt(i) : 0, version);
  }
  const nameEnd = i;
  i++;
  while (i < end && isWhitespace(s.charCodeAt(i))) i++;
  const valueStart = i;
  const invalidAt = invalidFieldTextAt(s, i, end);
  if (invalidAt !== -1) return invalidFieldChar(s.charCodeAt(invalidAt), version);
  let valueEnd = end;
  while (valueEnd > valueStart && isWhitespace(s.charCodeAt(valueEnd - 1))) valueEnd--;
  if (underscore) return null; // dropped: keeps X_Foo from posing as X-Foo (waitress)
  const value = s.slice(valueStart, valueEnd);
  const known = knownFieldName(s, start, nameEnd);
  if (known === undefined) {
    const raw = s.slice(start, nameEnd);
    headers.push(upperCase ? raw.toLowerCase() : raw, value);
    return null; // the framing fields are all known names
  }
  headers.push(known, value);
  return recordFramingField(known, s, start, nameEnd, value, version);
}

function invalidFieldChar(c: number, version: "1.0" | "1.1"): HttpError {
  return badRequest(c === CR ? "Bare CR or LF found in header line" : "Invalid header", version);
}

/** The name is `s[start, end)`, as sent. */
function duplicate(s: string, start: number, end: number, version: "1.0" | "1.1"): HttpError {
  return badRequest(`Duplicate header: ${s.slice(start, end)}`, version);
}

/**
 * Keeps the values that matter for framing. Host, Content-Length and
 * Content-Type may appear once (waitress refuses duplicates: two lengths are
 * a smuggling vector, CVE-2019-16792); list-valued fields are combined.
 */
function recordFramingField(
  name: string,
  s: string,
  start: number,
  end: number,
  value: string,
  version: "1.0" | "1.1",
): HttpError | null {
  switch (name) {
    case "host":
      if (fields.host !== null) return duplicate(s, start, end, version);
      fields.host = value;
      break;
    case "content-length":
      if (fields.contentLength !== null) return duplicate(s, start, end, version);
      fields.contentLength = value;
      break;
    case "content-type":
      if (fields.contentType) return duplicate(s, start, end, version);
      fields.contentType = true;
      break;
    case "transfer-encoding":
      fields.transferEncoding = fields.transferEncoding === null ? value : `${fields.transferEncoding},${value}`;
      break;
    case "connection":
      fields.connection = fields.connection === null ? value : `${fields.connection},${value}`;
      break;
    case "expect":
      fields.expect = fields.expect === null ? value : `${fields.expect},${value}`;
      break;
  }
  return null;
}

const NOT_SUPPORTED = "Transfer-Encoding requested is not supported.";

/** Validates the target, Host, Transfer-Encoding and Content-Length and derives the body framing. */
function applyFramingRules(
  method: string,
  target: string,
  version: "1.0" | "1.1",
  headers: string[],
  limits: ParserLimits,
): RequestHead | HttpError {
  const { host } = fields;
  // RFC 9112 section 3.2: a 1.1 request without Host, or with an invalid one, gets 400.
  if (host === null && version === "1.1") return badRequest("Missing Host header", version);
  if (host !== null && !isHostPort(host, false)) return badRequest("Host header is invalid", version);
  let chunked = false;
  if (fields.transferEncoding !== null) {
    // RFC 9112 section 6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
    if (version === "1.0") return badRequest("Transfer-Encoding is not allowed in HTTP/1.0", version);
    const codings = parseTokenList(fields.transferEncoding);
    if (codings.length === 0) return badRequest("Transfer-Encoding is invalid", version);
    // RFC 9112 section 6.3: if chunked is not the final coding the body length cannot be determined:
    // MUST be 400 and close (this covers identity, "chunked, gzip", "\x85chunked"; CVE-2019-16789).
    if (codings[codings.length - 1] !== "chunked") {
      return badRequest("Transfer-Encoding must end in chunked", version);
    }
    let chunkedCount = 0;
    for (const coding of codings) {
      // chunked is the only coding implemented: "gzip, chunked" is 501 (RFC 9112 6.1; CVE-2019-16786).
      if (coding !== "chunked") return notImplemented(NOT_SUPPORTED);
      chunkedCount++;
    }
    if (chunkedCount > 1) {
      return notImplemented("Transfer-Encoding is invalid. Multiple chunked encodings requested.");
    }
    // RFC 9112 section 6.1: both headers is a smuggling attempt; refuse rather than guess.
    if (fields.contentLength !== null) {
      return badRequest("Content-Length and Transfer-Encoding must not be combined", version);
    }
    chunked = true;
  }
  let contentLength = -1;
  if (fields.contentLength !== null) {
    contentLength = parseContentLength(fields.contentLength);
    if (contentLength < 0) return badRequest("Content-Length is invalid", version);
    if (contentLength > limits.maxRequestBodySize) return bodyTooLarge(limits.maxRequestBodySize, version);
  }
  return {
    method,
    target,
    version,
    headers,
    contentLength,
    chunked,
    expectContinue: version === "1.1" && fields.expect !== null && isExpectContinue(fields.expect),
    keepAlive: wantsKeepAlive(version, fields.connection),
    host,
  };
}

function isExpectContinue(value: string): boolean {
  return value.length === 12 ? value.toLowerCase() === "100-continue" : false;
}

/** RFC 9112 section 9.3: persistence from the version and the Connection tokens. */
function wantsKeepAlive(version: "1.0" | "1.1", connection: string | null): boolean {
  if (connection === null) return version === "1.1";
  // The usual single-token values, without building a token list.
  if (connection === "keep-alive" || connection === "Keep-Alive") return true;
  if (connection === "close" || connection === "Close") return false;
  const tokens = parseTokenList(connection);
  if (tokens.includes("close")) return false;
  return version === "1.1" || tokens.includes("keep-alive");
}
