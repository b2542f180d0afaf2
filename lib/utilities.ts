/**
 * Small shared helpers: the cached Date header, reason phrases, error
 * bodies, latin-1 encoding of response heads.
 *
 * @module
 */
import { isFieldText } from "./grammar.ts";
import { freshBytes } from "./byte_slab.ts";
import { setTimeout } from "node:timers";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function two(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/** Formats a time as an IMF-fixdate (RFC 9110 5.6.7), as the Date header wants it. */
export function httpDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${
    two(d.getUTCHours())
  }:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}

let cachedDate = "";

function forgetDate(): void {
  cachedDate = "";
}

/**
 * The Date header value for now, formatted at most once per second. As node:http does, a timer (that does not
 * keep the process alive) forgets it when the second ends, rather than a clock read per response: reading the
 * clock costs more than the rest of the head on some machines (bench/README.md).
 */
export function currentHttpDate(): string {
  if (cachedDate === "") {
    const now = Date.now();
    cachedDate = httpDate(now);
    setTimeout(forgetDate, 1000 - (now % 1000)).unref();
  }
  return cachedDate;
}

/** Reason phrases for the status line when the Response has no statusText (RFC 9110 section 15). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: "Continue",
  101: "Switching Protocols",
  102: "Processing",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  208: "Already Reported",
  226: "IM Used",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a teapot",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  423: "Locked",
  424: "Failed Dependency",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  510: "Not Extended",
  511: "Network Authentication Required",
};

/** The reason phrase for a status code, or "Unknown" for codes without one. */
export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? "Unknown";
}

/**
 * A status text, if it may stand in a status line; a TypeError otherwise. Bun's
 * Response takes any text, CR and LF included; waitress refuses those too.
 */
export function checkedStatusText(text: string): string {
  if (!isFieldText(text)) throw new TypeError(`Invalid status text ${JSON.stringify(text)}`);
  return text;
}

const encoder = new TextEncoder();

/** `chunks` (holding `total` bytes) as one array: the only chunk itself when it is exactly that, else a copy. */
export function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1 && chunks[0].length === total && chunks[0].buffer instanceof ArrayBuffer) {
    return chunks[0] as Uint8Array<ArrayBuffer>;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Strings up to this length may be checked for ASCII and copied next to a response head (see isShortAscii). */
export const SHORT_TEXT = 64;

/** True for a string of at most SHORT_TEXT characters, all ASCII: its UTF-8 bytes are its character codes. */
export function isShortAscii(text: string): boolean {
  const n = text.length;
  if (n > SHORT_TEXT) return false;
  for (let i = 0; i < n; i++) if (text.charCodeAt(i) > 127) return false;
  return true;
}

/**
 * Encodes a response head (ASCII in practice; header values may carry
 * latin-1 from Headers' ByteString rules) one byte per UTF-16 unit.
 */
export function latin1Bytes(text: string): Uint8Array {
  const out = freshBytes(text.length);
  putLatin1(text, out, 0);
  return out;
}

/**
 * Writes `text` one byte per character (response heads are latin-1) into
 * `out` at `offset`. At offset 0 it may scribble past `text.length` (see
 * below): callers fill the rest of `out` afterwards.
 */
export function putLatin1(text: string, out: Uint8Array, offset: number): number {
  const n = text.length;
  // Heads are ASCII nearly always: the native encoder is then byte-for-byte latin-1. Any other
  // character takes two UTF-8 bytes, which shows as fewer characters read or more bytes written
  // than `n`; the loop then rewrites the head byte by byte. At offset 0 no view is made (a view
  // per response is measurable): stray UTF-8 bytes past `n` are overwritten by what follows.
  const { read, written } = encoder.encodeInto(text, offset === 0 ? out : out.subarray(offset, offset + n));
  if (read !== n || written !== n) putChars(text, out, offset);
  return offset + n;
}

/**
 * Writes `text` one byte per character at `at` with a plain loop (what short head values and bodies
 * want: no native call, no view); returns the end.
 */
export function putChars(text: string, out: Uint8Array, at: number): number {
  const n = text.length;
  for (let i = 0; i < n; i++) out[at + i] = text.charCodeAt(i);
  return at + n;
}

/** waitress's error body: reason, detail and who generated it, CRLF-separated. */
export function errorBody(reason: string, detail: string, ident: string): string {
  return `${reason}\r\n\r\n${detail}\r\n\r\n(generated by ${ident === "" ? "server" : ident})`;
}

/** The message of anything thrown, for logs. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

/** What kind of value a handler gave instead of what was expected, for error messages ("null", "a string", "an object ([object Map])"). */
export function describeKind(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an object (${Object.prototype.toString.call(value)})`;
  return `a ${typeof value}`;
}
