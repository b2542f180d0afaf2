/**
 * The HTTP/1.1 grammar in one place (waitress's rfc7230.py): character
 * tables, tokens, field text, quoted strings, chunk extensions, host and port,
 * authority, Content-Length, token lists. The parser, the body receivers, the
 * proxy headers and the options all check text with these.
 *
 * Text is latin-1 (one char code per byte, 0-255), so the tables below are
 * indexed by a byte or by `charCodeAt` alike; a code above 0xFF finds no
 * table entry and so is never a member.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** Carriage return. */
export const CR = 13;
/** Line feed. */
export const LF = 10;
/** Space. */
export const SP = 32;
/** Horizontal tab. */
export const HTAB = 9;
/** ":" */
export const COLON = 58;
/** "/" */
export const SLASH = 47;

const SEMI = 59;
const EQUALS = 61;
const DQUOTE = 34;
const BACKSLASH = 92;

function buildTable(member: (code: number) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let c = 0; c < 256; c++) table[c] = member(c) ? 1 : 0;
  return table;
}

/** DIGIT (RFC 5234). */
export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** ALPHA (RFC 5234). */
export function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * tchar of RFC 9110 section 5.6.2, indexed by byte (or latin-1 char code):
 * 1 when the byte may appear in a token (method, field name, coding name).
 */
export const TOKEN_CHARS: Uint8Array = buildTable((c) =>
  isDigit(c) || isAlpha(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))
);

/** Hex digit values, indexed by byte; -1 for bytes that are not HEXDIG. */
export const HEX_VALUES: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let c = 0; c < 256; c++) if (isHexDigit(c)) table[c] = parseInt(String.fromCharCode(c), 16);
  return table;
})();

/** RFC 3986 unreserved / sub-delims, plus "%" (pct-encoded is checked separately): the reg-name alphabet. */
const REG_NAME_CHARS: Uint8Array = buildTable((c) =>
  c < 128 && (isAlpha(c) || isDigit(c) || "-._~!$&'()*+,;=%".includes(String.fromCharCode(c)))
);

/** SP or HTAB: optional whitespace (RFC 9110 section 5.6.3). */
export function isWhitespace(c: number): boolean {
  return c === SP || c === HTAB;
}

/**
 * True for field text: HTAB, SP, VCHAR and obs-text (RFC 9110 section 5.5),
 * what a field value and a reason phrase (RFC 9112 section 4) are made of;
 * false for CR, LF, NUL, DEL, the other controls and codes above 0xFF.
 * Comparisons rather than a table: one per character on the common path
 * (above SP), which is the header-value loop of every request.
 */
export function isFieldTextChar(c: number): boolean {
  return c > SP ? c !== 0x7f && c <= 0xff : c === SP || c === HTAB;
}

/** The index of the first character of `s[start, end)` that is not field text, or -1 when all are. */
export function invalidFieldTextAt(s: string, start: number, end: number): number {
  for (let i = start; i < end; i++) if (!isFieldTextChar(s.charCodeAt(i))) return i;
  return -1;
}

/** True if `text` may stand as a reason phrase or a header value: no CR, LF or other controls, nothing above 0xFF. */
export function isFieldText(text: string): boolean {
  return invalidFieldTextAt(text, 0, text.length) === -1;
}

/** The index after the token that starts at `s[i]` (`i` itself when none does). */
export function tokenEnd(s: string, i: number, end: number): number {
  while (i < end && TOKEN_CHARS[s.charCodeAt(i)] === 1) i++;
  return i;
}

function skipWhitespace(s: string, i: number, end: number): number {
  while (i < end && isWhitespace(s.charCodeAt(i))) i++;
  return i;
}

/**
 * The index after the quoted-string that starts at `s[i]` (a DQUOTE), or -1
 * when it is malformed or unterminated before `end` (RFC 9110 section 5.6.4:
 * qdtext and quoted-pair are field text).
 */
export function quotedStringEnd(s: string, i: number, end: number): number {
  for (i++; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE) return i + 1;
    if (c === BACKSLASH) i++;
    if (i >= end || !isFieldTextChar(s.charCodeAt(i))) return -1;
  }
  return -1;
}

/** The text inside the quoted-string `s`, quoted-pairs unescaped; null when `s` is not exactly one quoted-string. */
export function quotedStringValue(s: string): string | null {
  if (s.charCodeAt(0) !== DQUOTE || quotedStringEnd(s, 0, s.length) !== s.length) return null;
  return s.slice(1, -1).replace(/\\(.)/gs, "$1");
}

/**
 * Whether `s[start, end)` (starting at ";") is a valid chunk-ext list,
 * RFC 9112 section 7.1.1:
 * `*( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`.
 * A single linear pass, no backtracking.
 */
export function isChunkExtensions(s: string, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    i = skipWhitespace(s, i, end);
    if (i >= end || s.charCodeAt(i) !== SEMI) return false;
    i = skipWhitespace(s, i + 1, end);
    const nameEnd = tokenEnd(s, i, end);
    if (nameEnd === i) return false;
    i = nameEnd;
    const afterSpace = skipWhitespace(s, i, end);
    if (afterSpace < end && s.charCodeAt(afterSpace) === EQUALS) {
      const valueStart = skipWhitespace(s, afterSpace + 1, end);
      i = valueStart < end && s.charCodeAt(valueStart) === DQUOTE
        ? quotedStringEnd(s, valueStart, end)
        : tokenEnd(s, valueStart, end);
      if (i === valueStart || i === -1) return false;
    }
  }
  return true;
}

/**
 * Whether `s[start, end)` is `field-name ":" OWS field-value OWS`
 * (RFC 9112 section 5). Used for trailer fields; obs-fold is rejected.
 */
export function isFieldLine(s: string, start: number, end: number): boolean {
  const nameEnd = tokenEnd(s, start, end);
  if (nameEnd === start || nameEnd >= end || s.charCodeAt(nameEnd) !== COLON) return false;
  return invalidFieldTextAt(s, nameEnd + 1, end) === -1;
}

/** The length of the URI scheme (RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )) at `s[0]`; 0 for none. */
export function schemeLength(s: string): number {
  if (!isAlpha(s.charCodeAt(0))) return 0;
  let i = 1;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAlpha(c) && !isDigit(c) && c !== 0x2b && c !== 0x2d && c !== 0x2e) break;
  }
  return i;
}

/** True if `value` is a URI scheme and nothing else. */
export function isScheme(value: string): boolean {
  return value.length > 0 && schemeLength(value) === value.length;
}

/** Where the authority of an absolute-form target that starts at `start` ends: the first "/", "?", "#", or the end. */
export function authorityEnd(target: string, start: number): number {
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === SLASH || c === 0x3f /* ? */ || c === 0x23 /* # */) break;
    end++;
  }
  return end;
}

/**
 * `uri-host [ ":" port ]` (RFC 9110 section 7.2, RFC 3986 section 3.2.2):
 * a bracketed IP-literal, or a reg-name / IPv4 address, then an optional
 * port of digits. `requirePort` is for CONNECT's authority-form.
 */
export function isHostPort(value: string, requirePort: boolean): boolean {
  let i = 0;
  const n = value.length;
  if (value.charCodeAt(0) === 0x5b) {
    const close = value.indexOf("]");
    if (close < 2) return false;
    for (let j = 1; j < close; j++) {
      const c = value.charCodeAt(j);
      // IPv6 hex, ":" and "." (embedded IPv4); IPvFuture's alphabet is a subset of reg-name's plus ":".
      if (REG_NAME_CHARS[c] !== 1 && c !== COLON) return false;
    }
    i = close + 1;
  } else {
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c === COLON) break;
      if (REG_NAME_CHARS[c] !== 1) return false;
      if (c === 0x25 && !(isHexDigit(value.charCodeAt(i + 1)) && isHexDigit(value.charCodeAt(i + 2)))) return false;
    }
    // An empty host is only ever the whole value (a Host header may be empty), never before a port.
    if (i === 0 && (requirePort || n > 0)) return false;
  }
  if (i === n) return !requirePort;
  if (value.charCodeAt(i) !== COLON) return false;
  if (requirePort && i + 1 === n) return false;
  for (let j = i + 1; j < n; j++) if (!isDigit(value.charCodeAt(j))) return false;
  return true;
}

/** Splits a comma list (RFC 9110 section 5.6.1): items trimmed of SP/HTAB, lower-cased, empty ones dropped. */
export function parseTokenList(value: string): string[] {
  const items: string[] = [];
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(",", start);
    if (end === -1) end = value.length;
    let a = start;
    let b = end;
    while (a < b && isWhitespace(value.charCodeAt(a))) a++;
    while (b > a && isWhitespace(value.charCodeAt(b - 1))) b--;
    if (b > a) items.push(value.slice(a, b).toLowerCase());
    start = end + 1;
  }
  return items;
}

/**
 * Content-Length = 1*DIGIT (RFC 9110 section 8.6), nothing else (CVE-2022-24761:
 * no sign, no hex, no "_", no list). Returns -1 when invalid; a value too big
 * to represent exactly becomes Infinity, which every body limit refuses.
 */
export function parseContentLength(value: string): number {
  const n = value.length;
  if (n === 0) return -1;
  for (let i = 0; i < n; i++) if (!isDigit(value.charCodeAt(i))) return -1;
  let first = 0;
  while (first < n - 1 && value.charCodeAt(first) === 0x30) first++;
  return n - first > 15 ? Infinity : Number(value.slice(first));
}

/** node:buffer's Buffer, seen only through the method used here. */
interface Latin1Slicer {
  latin1Slice(this: Uint8Array, start: number, end: number): string;
}

/**
 * node:buffer's native ISO-8859-1 decode. It reads any Uint8Array, not only
 * a Buffer, on all three runtimes; looked up once, so a plain Uint8Array
 * (Deno's `Deno.listen`, tests, the engine benchmark) costs no more than a
 * socket's Buffer. Undefined where node:buffer lacks it.
 */
const latin1Slice: Latin1Slicer["latin1Slice"] | undefined = (Buffer.prototype as unknown as Partial<Latin1Slicer>)
  .latin1Slice;

/**
 * Decodes `bytes[start, end)` as ISO-8859-1 (every byte to the code point of
 * the same value). TextDecoder("latin1") is windows-1252 and maps 0x80-0x9F
 * elsewhere, hence node:buffer's latin1Slice, and String.fromCharCode in
 * slices where that is missing.
 */
export function decodeLatin1(bytes: Uint8Array, start: number, end: number): string {
  if (latin1Slice !== undefined) return latin1Slice.call(bytes, start, end);
  const view = bytes.subarray(start, end);
  let out = "";
  for (let i = 0; i < view.length; i += 4096) {
    out += String.fromCharCode.apply(null, view.subarray(i, i + 4096) as unknown as number[]);
  }
  return out;
}
