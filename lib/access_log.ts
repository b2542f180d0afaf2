/**
 * The access log's line format: gunicorn's `--access-logformat` atoms,
 * compiled once into a function from a finished request to one line.
 *
 * The default is the Apache combined format, the line Paste's TransLogger
 * writes for waitress users:
 * `127.0.0.1 - - [03/Dec/2026:10:49:17 +0000] "GET /p?x=1 HTTP/1.1" 200 13 "-" "curl/8.5"`.
 *
 * Values that come from the client are escaped as Apache escapes them (`"`,
 * `\` and control bytes as `\xhh`), so a request can never forge a line.
 *
 * @module
 */
import process from "node:process";

/** What one finished request leaves for its log line. */
export interface AccessRecord {
  /** The client address after trusted-proxy handling (`h`). */
  remoteAddr: string;
  /**
   * The request line as received, for a request refused before its head could be parsed (`""` when
   * no whole line arrived; `method`, `target` and `protocol` are then empty); null otherwise.
   */
  requestLine: string | null;
  /** `GET`, `POST`... */
  method: string;
  /** The request target as sent (`/p?x=1`). */
  target: string;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  protocol: string;
  /** Request headers as flat pairs, lower-case names first: `["host", "x", "user-agent", "curl"]`. */
  requestHeaders: readonly string[];
  /** The response status. */
  status: number;
  /** Body bytes actually handed to the client (framing excluded). */
  bodyBytes: number;
  /** Looks up a response header, case-insensitively; null when absent. */
  responseHeader(name: string): string | null;
  /** When the request was received, in milliseconds since the epoch (`t`). */
  startTime: number;
  /** How long it took from receipt to the last byte, in milliseconds (`T`, `M`, `D`, `L`). */
  duration: number;
}

/** Turns a finished request into its log line (without the newline). */
export type AccessFormatter = (record: AccessRecord) => string;

/** gunicorn's default, which is the Apache combined format. */
export const DEFAULT_ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"';

type Part = string | AccessFormatter;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

let clfSecond = -1;
let clfText = "";

/** `[03/Dec/2026:10:49:17 +0000]`, in UTC; cached for the second, as the Date header is. */
export function clfTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== clfSecond) {
    const d = new Date(second * 1000);
    clfSecond = second;
    clfText = `[${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
      `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000]`;
  }
  return clfText;
}

// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f]/;
// deno-lint-ignore no-control-regex
const ESCAPES = /["\\\x00-\x1f\x7f]/g;

/** Apache's escaping of client-supplied text; `-` for a missing or empty value. */
export function escapeValue(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "-";
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(ESCAPES, (c) => {
    if (c === '"') return '\\"';
    if (c === "\\") return "\\\\";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

function requestHeader(record: AccessRecord, name: string): string | null {
  const pairs = record.requestHeaders;
  let found: string | null = null;
  for (let i = 0; i < pairs.length; i += 2) {
    if (pairs[i] === name) found = found === null ? pairs[i + 1] : `${found}, ${pairs[i + 1]}`;
  }
  return found;
}

/** The user name of Basic credentials (gunicorn's `u`); `-` without them. */
function basicUser(record: AccessRecord): string {
  const auth = requestHeader(record, "authorization");
  if (auth === null || !/^basic /i.test(auth)) return "-";
  let decoded: string;
  try {
    decoded = atob(auth.slice(6).trim());
  } catch {
    return "-";
  }
  const colon = decoded.indexOf(":");
  return escapeValue(colon < 0 ? decoded : decoded.slice(0, colon));
}

function splitTarget(target: string): [string, string] {
  const q = target.indexOf("?");
  return q < 0 ? [target, ""] : [target.slice(0, q), target.slice(q + 1)];
}

/** gunicorn's single-letter atoms. */
const ATOMS: Record<string, AccessFormatter> = {
  h: (r) => r.remoteAddr || "-",
  l: () => "-",
  u: basicUser,
  t: (r) => clfTime(r.startTime),
  r: (r) => escapeValue(r.requestLine ?? `${r.method} ${r.target} ${r.protocol}`),
  m: (r) => r.method || "-",
  U: (r) => escapeValue(splitTarget(r.target)[0]),
  q: (r) => escapeValue(splitTarget(r.target)[1]),
  H: (r) => r.protocol || "-",
  s: (r) => String(r.status),
  B: (r) => String(r.bodyBytes),
  b: (r) => r.bodyBytes > 0 ? String(r.bodyBytes) : "-",
  f: (r) => escapeValue(requestHeader(r, "referer")),
  a: (r) => escapeValue(requestHeader(r, "user-agent")),
  T: (r) => String(Math.floor(r.duration / 1000)),
  M: (r) => String(Math.floor(r.duration)),
  D: (r) => String(Math.floor(r.duration * 1000)),
  L: (r) => (r.duration / 1000).toFixed(6),
  p: () => `<${process.pid}>`,
};

/** The atom names `compileAccessFormat` knows, for help texts and errors. */
export const ACCESS_LOG_ATOMS: readonly string[] = Object.keys(ATOMS);

function headerAtom(name: string, kind: string): AccessFormatter {
  const lower = name.toLowerCase();
  return kind === "i" ? (r) => escapeValue(requestHeader(r, lower)) : (r) => escapeValue(r.responseHeader(lower));
}

/** One `%(...)s` atom; throws for an unknown one. */
function atomOf(name: string): AccessFormatter {
  const header = /^\{([^{}]+)\}([io])$/.exec(name);
  if (header !== null) return headerAtom(header[1], header[2]);
  const atom = ATOMS[name];
  if (atom === undefined) {
    throw new Error(`unknown access log atom %(${name})s (known: ${ACCESS_LOG_ATOMS.join(" ")} {header}i {header}o)`);
  }
  return atom;
}

/** Splits a gunicorn format into literal text and atoms; `%%` is a literal `%`. */
function partsOf(format: string): Part[] {
  const parts: Part[] = [];
  let text = "";
  let i = 0;
  while (i < format.length) {
    const c = format[i];
    if (c !== "%") {
      text += c;
      i++;
      continue;
    }
    if (format[i + 1] === "%") {
      text += "%";
      i += 2;
      continue;
    }
    const m = /^%\(([^()]*)\)s/.exec(format.slice(i));
    if (m === null) {
      throw new Error(`bad access log format at ${JSON.stringify(format.slice(i, i + 12))}: use %(atom)s`);
    }
    if (text !== "") parts.push(text);
    text = "";
    parts.push(atomOf(m[1]));
    i += m[0].length;
  }
  if (text !== "") parts.push(text);
  return parts;
}

/**
 * Compiles a gunicorn access log format (`%(h)s %(l)s ... "%({x-request-id}i)s"`)
 * into a function. Throws on an unknown atom or a malformed `%`.
 */
export function compileAccessFormat(format: string = DEFAULT_ACCESS_LOG_FORMAT): AccessFormatter {
  const parts = partsOf(format);
  const n = parts.length;
  return (record) => {
    let line = "";
    for (let i = 0; i < n; i++) {
      const part = parts[i];
      line += typeof part === "string" ? part : part(record);
    }
    return line;
  };
}
