/**
 * Response heads (waitress's Task.build_response_header): what the
 * application's headers say, the framing headers the engine adds, the status
 * line, and the header lines sorted by name as waitress sorts them; and the
 * whole of waitress's plain-text error response. No I/O here: the response
 * writer sends what these functions build.
 *
 * @module
 */
import { freshBytes } from "./byte_slab.ts";
import { checkedStatusText, currentHttpDate, errorBody, putChars, putLatin1, reasonPhrase, utf8 } from "./utilities.ts";

/** Headers the application may not set: the engine owns the framing (RFC 9110 7.6.1 hop-by-hop). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-connection",
]);

/** The application's response headers, read in one pass. */
export interface AppHeaders {
  /** Flat [name, value, ...] of the headers the engine passes on (no hop-by-hop, no Content-Length). */
  lines: string[];
  contentLength: string | null;
  connection: string | null;
  hasDate: boolean;
  hasServer: boolean;
  /** The app gave a Content-Type. */
  hasType: boolean;
}

/** An empty AppHeaders, for `addAppHeader` to fill. */
export function newAppHeaders(): AppHeaders {
  return { lines: [], contentLength: null, connection: null, hasDate: false, hasServer: false, hasType: false };
}

/** Takes one application header (lower-case name) into `this`; in `Headers.forEach`'s order of arguments. */
export function addAppHeader(this: AppHeaders, value: string, name: string): void {
  if (name === "content-length") {
    // Two different values cannot both be right.
    this.contentLength = this.contentLength === null || this.contentLength === value ? value : "conflicting";
    return;
  }
  if (HOP_BY_HOP.has(name)) {
    if (name === "connection") this.connection = this.connection === null ? value : `${this.connection}, ${value}`;
    return;
  }
  if (name === "content-type") this.hasType = true;
  else if (name === "date") this.hasDate = true;
  else if (name === "server") this.hasServer = true;
  this.lines.push(name, value);
}

/** Reads the response headers once (each Headers lookup walks the list again). */
export function collectHeaders(headers: Headers): AppHeaders {
  const app = newAppHeaders();
  // forEach, not for-of: the same entries without an iterator object per response; a `this`, not a closure.
  headers.forEach(addAppHeader, app);
  return app;
}

/**
 * Whether this runtime's Response keeps the Content-Type a string body implies out of `headers` (Bun's
 * does: Bun.serve adds the type as it writes the response).
 */
export const IMPLIED_TYPE_HIDDEN: boolean = new Response("").headers.get("content-type") === null;

/** The type Bun.serve gives a string body that has none. */
const BUN_STRING_TYPE = "text/plain;charset=utf-8";

/** Adds the type Bun.serve gives a string body, unless the app set one. */
export function addImpliedType(app: AppHeaders): void {
  if (!app.hasType) app.lines.push("content-type", BUN_STRING_TYPE);
}

/** Parses the application's Content-Length; -1 when absent, NaN when invalid. */
export function declaredLength(value: string | null): number {
  if (value === null) return -1;
  return /^[0-9]{1,15}$/.test(value) ? Number(value) : NaN;
}

/** True when a Connection header value lists the `close` token. */
export function hasCloseToken(value: string | null): boolean {
  if (value === null) return false;
  for (const token of value.split(",")) if (token.trim().toLowerCase() === "close") return true;
  return false;
}

/** Framing decided for one response. */
export interface Framing {
  /** Content-Length to send, or -1. */
  length: number;
  chunked: boolean;
  close: boolean;
  /** Body bytes are written (false for HEAD, 1xx, 204, 304). */
  sendBody: boolean;
}

/**
 * The status line and headers, sorted by name as waitress sorts them, as bytes (heads are latin-1), with
 * `extra` bytes left at the end for a body the caller copies in: head and small body go out in one write.
 * Written piece by piece from cached bytes, not joined into a string first: encoding a joined string
 * costs more than the pieces (bench/README.md).
 */
export function serializeHead(
  version: "1.0" | "1.1",
  response: Response,
  app: AppHeaders,
  framing: Framing,
  ident: string,
  extra = 0,
): Uint8Array {
  const status = response.status;
  const text = response.statusText;
  const lines = app.lines;
  if (framing.length >= 0 && status !== 204) lines.push("content-length", String(framing.length));
  if (framing.chunked) lines.push("transfer-encoding", "chunked");
  if (framing.close) lines.push("connection", "close");
  else if (version === "1.0") lines.push("connection", "Keep-Alive");
  if (!app.hasDate) lines.push("date", currentHttpDate());
  if (app.hasServer) lines.push("via", ident === "" ? "waitress" : ident);
  else if (ident !== "") lines.push("server", ident);
  const custom = text !== "" ? `HTTP/${version} ${status} ${checkedStatusText(text)}\r\n` : "";
  const start = text !== "" ? null : statusLine(version, status);
  const n = lines.length / 2;
  const order = headerOrder(lines);
  let size = (start === null ? custom.length : start.length) + 2 + extra;
  for (let k = 0; k < n; k++) {
    const i = order[k] * 2;
    const prefix = linePrefix(lines[i]);
    prefixes[k] = prefix;
    size += prefix.length + lines[i + 1].length + 2;
  }
  const out = freshBytes(size);
  let at = 0;
  if (start === null) at = putChars(custom, out, 0);
  else {
    out.set(start, 0);
    at = start.length;
  }
  for (let k = 0; k < n; k++) {
    const prefix = prefixes[k];
    out.set(prefix, at);
    at = putChars(lines[order[k] * 2 + 1], out, at + prefix.length);
    out[at++] = 13;
    out[at++] = 10;
  }
  out[at++] = 13;
  out[at] = 10;
  return out;
}

/** A string one byte per character, in an array of its own (for caches: never a view into a shared slab). */
function ownBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  putChars(text, out, 0);
  return out;
}

/** Status lines with the reason phrase of their code, by version and code, made once each. */
const statusLines11: Uint8Array[] = [];
const statusLines10: Uint8Array[] = [];

/** `HTTP/<version> <status> <reason phrase>\r\n` (status 200 to 599). */
function statusLine(version: "1.0" | "1.1", status: number): Uint8Array {
  const cache = version === "1.1" ? statusLines11 : statusLines10;
  let line = cache[status];
  if (line === undefined) line = cache[status] = ownBytes(`HTTP/${version} ${status} ${reasonPhrase(status)}\r\n`);
  return line;
}

/** `Name: ` for each lower-case header name seen: title-cased as waitress does (`content-type` -> `Content-Type`, `etag` -> `Etag`). */
const prefixCache = new Map<string, Uint8Array>();
function linePrefix(name: string): Uint8Array {
  let cached = prefixCache.get(name);
  if (cached !== undefined) return cached;
  cached = ownBytes(name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()) + ": ");
  if (prefixCache.size < 512) prefixCache.set(name, cached);
  return cached;
}

/** Each line's prefix in sorted order, reused by every head (filled and read at once). */
const prefixes: Uint8Array[] = [];

/** Up to this many headers are sorted by insertion (no comparator closure); more go to Array.sort. */
const INSERTION_SORT_MAX = 24;

/** The insertion sort's order of lines, reused by every head (it is filled and read at once). */
const insertionOrder: number[] = new Array(INSERTION_SORT_MAX).fill(0);

/**
 * The order of the lines in flat [lower-case name, value, ...], stable-sorted by name (indices of pairs).
 * The array may be shared with the next call: read it at once (exported for tests).
 */
export function headerOrder(flat: string[]): readonly number[] {
  const n = flat.length / 2;
  if (n <= INSERTION_SORT_MAX) {
    // A response has a handful of headers: insertion sort is stable and allocates nothing more.
    const order = insertionOrder;
    for (let i = 0; i < n; i++) {
      const name = flat[i * 2];
      let j = i;
      while (j > 0 && flat[order[j - 1] * 2] > name) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
    }
    return order;
  }
  const order: number[] = new Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((a, b) => {
    const x = flat[a * 2];
    const y = flat[b * 2];
    return x < y ? -1 : x > y ? 1 : a - b;
  });
}

/** waitress's error response, head and body (it always closes the connection); `extraHeaders` are whole lines. */
export function errorResponseBytes(
  status: number,
  reason: string,
  detail: string,
  version: "1.0" | "1.1",
  ident: string,
  extraHeaders = "",
): Uint8Array {
  const body = utf8(errorBody(reason, detail, ident));
  let head = `HTTP/${version} ${status} ${reason}\r\n${extraHeaders}` +
    `Connection: close\r\nContent-Length: ${body.length}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Date: ${currentHttpDate()}\r\n`;
  if (ident !== "") head += `Server: ${ident}\r\n`;
  head += "\r\n";
  const out = new Uint8Array(head.length + body.length);
  out.set(body, putLatin1(head, out, 0));
  return out;
}
