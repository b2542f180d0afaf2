/**
 * The one option table: waitress's adjustments, with their defaults,
 * parsing, validation and help text. `serve()` options, the
 * `waitress-serve` flags and `--help` are all generated from it.
 *
 * @module
 */
import { isHostPort } from "./parser.ts";
import { isFieldText } from "./utilities.ts";

/** Logs what the server has to say (waitress logs through Python's `logging`). */
export interface Logger {
  /** Informational messages, such as "Serving on ...". */
  info(message: string): void;
  /** Something went wrong but the server carries on. */
  warn(message: string): void;
  /** An application or socket error. */
  error(message: string): void;
}

/**
 * Options of `serve()`: every waitress adjustment as a camelCase field, with
 * waitress's default. The CLI flag of each is the hyphenated name
 * (`maxRequestBodySize` is `--max-request-body-size`).
 */
export interface ServeOptions {
  /** Address to listen on (default `0.0.0.0`). Not with `listen` or `unixSocket`. */
  host?: string;
  /** Port to listen on (default 8080); also the port of `listen` entries that name none. */
  port?: number;
  /** `host:port` entries, one listener each; `*` is every address, `[::1]:80` is IPv6. */
  listen?: string | string[];
  /** Use IPv4 addresses (default true). */
  ipv4?: boolean;
  /** Use IPv6 addresses (default true). */
  ipv6?: boolean;
  /** Listen on this unix socket path instead of TCP. */
  unixSocket?: string;
  /** Permissions of the unix socket file, octal (default `600`). */
  unixSocketPerms?: number | string;
  /** How many requests the application may process at once (default 4). */
  threads?: number;
  /** Listen backlog (default 1024). */
  backlog?: number;
  /** Bytes to read from a socket at a time (default 8192). */
  recvBytes?: number;
  /** Deprecated in waitress; accepted and ignored (default 1). */
  sendBytes?: number;
  /** Pending response bytes above this go to a temporary file (default 1048576). */
  outbufOverflow?: number;
  /** The application's body stream waits while more than this is pending (default 16777216). */
  outbufHighWatermark?: number;
  /** Request bodies larger than this are buffered in a temporary file (default 524288). */
  inbufOverflow?: number;
  /** Stop accepting new connections at this many open ones (default 100). */
  connectionLimit?: number;
  /** Seconds between sweeps for idle connections (default 30). */
  cleanupInterval?: number;
  /** Seconds an idle connection (no request in flight) is kept open (default 120). */
  channelTimeout?: number;
  /** Log client disconnects and socket errors (default true). */
  logSocketErrors?: boolean;
  /** Largest request line plus headers, in bytes; larger gets 431 (default 262144). */
  maxRequestHeaderSize?: number;
  /** Largest request body, in bytes; larger gets 413 (default 1073741824). */
  maxRequestBodySize?: number;
  /** Put the error's stack in the body of 500 responses (default false). */
  exposeTracebacks?: boolean;
  /** Value of the Server header; empty for none (default `waitress`). */
  ident?: string;
  /** Scheme of `request.url` (default `http`). */
  urlScheme?: string;
  /** Path prefix the application is mounted at (waitress's SCRIPT_NAME; default none). */
  urlPrefix?: string;
  /** Host name of `request.url` when the request has no Host (default `waitress.invalid`). */
  serverName?: string;
  /** Requests read ahead while one is in flight; above 0 client disconnects are noticed (default 0). */
  channelRequestLookahead?: number;
  /** Peer address allowed to set proxy headers; `*` trusts every peer. */
  trustedProxy?: string;
  /** How many trailing proxy hops to trust (default 1). */
  trustedProxyCount?: number;
  /** Proxy headers to honour: `x-forwarded-for`, `-host`, `-proto`, `-port`, `-by`, or `forwarded`. */
  trustedProxyHeaders?: string | string[];
  /** Remove proxy headers that are not trusted before the application sees them (default true). */
  clearUntrustedProxyHeaders?: boolean;
  /** Log the untrusted proxy headers that were removed (default false). */
  logUntrustedProxyHeaders?: boolean;
  /** Python asyncore only: accepted for compatibility, no effect (default 1). */
  asyncoreLoopTimeout?: number;
  /** Python asyncore only: accepted for compatibility, no effect (default false). */
  asyncoreUsePoll?: boolean;
}

/** Names of the options in the table. */
export type OptionName = keyof ServeOptions;

/** How an option's value is read from a string (the CLI) or checked (the API). */
export type OptionKind =
  | "string"
  | "integer"
  | "boolean"
  | "list"
  | "octal";

/** One row of the option table. */
export interface OptionSpec {
  /** Flag name without dashes (`max-request-body-size`). */
  flag: string;
  /** How the value is parsed and checked. */
  kind: OptionKind;
  /** waitress's default, as shown in `--help` and the README. */
  defaultText: string;
  /** Placeholder for the value in `--help` (none for booleans). */
  metavar?: string;
  /** `standard` or `tuning`, as waitress's help groups them. */
  group: "standard" | "tuning";
  /** One sentence or two for `--help` and the README. */
  help: string;
  /** Smallest accepted integer (inclusive). */
  min?: number;
  /** Repeatable on the command line (values accumulate). */
  multiple?: boolean;
}

/**
 * The option table. The mapped type makes the compiler check that every
 * field of `ServeOptions` has exactly one row here.
 */
export const OPTION_TABLE: { readonly [K in OptionName]-?: OptionSpec } = {
  host: {
    flag: "host",
    kind: "string",
    defaultText: "0.0.0.0",
    metavar: "ADDR",
    group: "standard",
    help: "Hostname or IP address on which to listen. Not with --listen or --unix-socket.",
  },
  port: {
    flag: "port",
    kind: "integer",
    defaultText: "8080",
    metavar: "PORT",
    group: "standard",
    min: 0,
    help: "TCP port on which to listen; also the port of --listen entries that give none.",
  },
  listen: {
    flag: "listen",
    kind: "list",
    defaultText: "0.0.0.0:8080",
    metavar: "ip:port",
    group: "standard",
    multiple: true,
    help:
      "Tell waitress to listen on an ip port combination. `*:8080` listens on every address, `[::1]:8080` on an IPv6 one. May be given several times.",
  },
  ipv4: {
    flag: "ipv4",
    kind: "boolean",
    defaultText: "true",
    group: "standard",
    help: "Use IPv4 addresses when resolving --listen entries.",
  },
  ipv6: {
    flag: "ipv6",
    kind: "boolean",
    defaultText: "true",
    group: "standard",
    help: "Use IPv6 addresses when resolving --listen entries.",
  },
  unixSocket: {
    flag: "unix-socket",
    kind: "string",
    defaultText: "",
    metavar: "PATH",
    group: "standard",
    help: "Path of a unix socket to listen on instead of TCP. A stale socket file there is removed first.",
  },
  unixSocketPerms: {
    flag: "unix-socket-perms",
    kind: "octal",
    defaultText: "600",
    metavar: "PERMS",
    group: "standard",
    help: "Octal permissions of the unix socket file.",
  },
  urlScheme: {
    flag: "url-scheme",
    kind: "string",
    defaultText: "http",
    metavar: "STR",
    group: "standard",
    help: "Scheme of request.url (waitress's wsgi.url_scheme).",
  },
  urlPrefix: {
    flag: "url-prefix",
    kind: "string",
    defaultText: "",
    metavar: "STR",
    group: "standard",
    help:
      "Path prefix the application is mounted at (SCRIPT_NAME). It is split off request.url and given as info.urlPrefix.",
  },
  ident: {
    flag: "ident",
    kind: "string",
    defaultText: "waitress",
    metavar: "STR",
    group: "standard",
    help: "Value of the Server response header. Empty sends no Server header.",
  },
  serverName: {
    flag: "server-name",
    kind: "string",
    defaultText: "waitress.invalid",
    metavar: "NAME",
    group: "standard",
    help: "Host name used in request.url when the request carries no Host header, or an empty one.",
  },
  trustedProxy: {
    flag: "trusted-proxy",
    kind: "string",
    defaultText: "",
    metavar: "IP",
    group: "standard",
    help: "IP address of a proxy whose forwarding headers are trusted; `*` trusts every peer.",
  },
  trustedProxyCount: {
    flag: "trusted-proxy-count",
    kind: "integer",
    defaultText: "1",
    metavar: "INT",
    group: "standard",
    min: 1,
    help: "How many trailing proxies of X-Forwarded-For/Host or Forwarded to trust. Needs --trusted-proxy.",
  },
  trustedProxyHeaders: {
    flag: "trusted-proxy-headers",
    kind: "list",
    defaultText: "x-forwarded-proto",
    metavar: "LIST",
    group: "standard",
    help:
      "Space-separated proxy headers to trust: x-forwarded-for, x-forwarded-host, x-forwarded-proto, x-forwarded-port, x-forwarded-by, or forwarded (alone). Needs --trusted-proxy; with it and without this, x-forwarded-proto alone is trusted.",
  },
  clearUntrustedProxyHeaders: {
    flag: "clear-untrusted-proxy-headers",
    kind: "boolean",
    defaultText: "true",
    group: "standard",
    help: "Remove proxy headers that are not trusted before the application sees them.",
  },
  logUntrustedProxyHeaders: {
    flag: "log-untrusted-proxy-headers",
    kind: "boolean",
    defaultText: "false",
    group: "standard",
    help: "Log the untrusted proxy headers that were removed.",
  },
  exposeTracebacks: {
    flag: "expose-tracebacks",
    kind: "boolean",
    defaultText: "false",
    group: "standard",
    help: "Show the error's stack in the body of 500 responses. Never in production.",
  },
  threads: {
    flag: "threads",
    kind: "integer",
    defaultText: "4",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "How many requests the application may process at once; more wait in arrival order.",
  },
  backlog: {
    flag: "backlog",
    kind: "integer",
    defaultText: "1024",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Connection backlog of the listening socket.",
  },
  recvBytes: {
    flag: "recv-bytes",
    kind: "integer",
    defaultText: "8192",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Bytes to read from a socket at a time, where the runtime lets us choose.",
  },
  sendBytes: {
    flag: "send-bytes",
    kind: "integer",
    defaultText: "1",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Deprecated in waitress and ignored here.",
  },
  outbufOverflow: {
    flag: "outbuf-overflow",
    kind: "integer",
    defaultText: "1048576",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help: "Pending response bytes of a connection above this are kept in a temporary file.",
  },
  outbufHighWatermark: {
    flag: "outbuf-high-watermark",
    kind: "integer",
    defaultText: "16777216",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "A response body stream is not read while more than this many bytes wait to be sent.",
  },
  inbufOverflow: {
    flag: "inbuf-overflow",
    kind: "integer",
    defaultText: "524288",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help: "Request bodies larger than this are buffered in a temporary file.",
  },
  connectionLimit: {
    flag: "connection-limit",
    kind: "integer",
    defaultText: "100",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Stop accepting connections while this many are open; waiting clients are served as others close.",
  },
  cleanupInterval: {
    flag: "cleanup-interval",
    kind: "integer",
    defaultText: "30",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Seconds between sweeps that close idle connections.",
  },
  channelTimeout: {
    flag: "channel-timeout",
    kind: "integer",
    defaultText: "120",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Seconds a connection with no request in flight may stay idle before it is closed.",
  },
  logSocketErrors: {
    flag: "log-socket-errors",
    kind: "boolean",
    defaultText: "true",
    group: "tuning",
    help: "Log client disconnects and socket errors.",
  },
  maxRequestHeaderSize: {
    flag: "max-request-header-size",
    kind: "integer",
    defaultText: "262144",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Largest request line plus headers, in bytes. Larger requests get 431.",
  },
  maxRequestBodySize: {
    flag: "max-request-body-size",
    kind: "integer",
    defaultText: "1073741824",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help: "Largest request body, in bytes. Larger requests get 413.",
  },
  channelRequestLookahead: {
    flag: "channel-request-lookahead",
    kind: "integer",
    defaultText: "0",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help:
      "Requests to read ahead while one is in flight. Above 0 a client that goes away is noticed and request.signal aborts.",
  },
  asyncoreLoopTimeout: {
    flag: "asyncore-loop-timeout",
    kind: "integer",
    defaultText: "1",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help: "Python asyncore only: accepted for compatibility, no effect.",
  },
  asyncoreUsePoll: {
    flag: "asyncore-use-poll",
    kind: "boolean",
    defaultText: "false",
    group: "tuning",
    help: "Python asyncore only: accepted for compatibility, no effect.",
  },
};

/** The trusted proxy headers waitress knows. */
export const KNOWN_PROXY_HEADERS: readonly string[] = [
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-by",
  "forwarded",
];

/** One place to bind: a TCP address or a unix socket path. */
export type BindTarget =
  | { transport: "tcp"; hostname: string; port: number; ipv6Only: boolean }
  | { transport: "unix"; path: string };

/** Options after defaults, parsing and validation: what the engine reads. */
export interface Adjustments {
  /** Where to listen, in order. */
  binds: BindTarget[];
  /** Unix socket permissions as a number (0o600). */
  unixSocketPerms: number;
  /** See {@linkcode ServeOptions}. */
  threads: number;
  /** See {@linkcode ServeOptions}. */
  backlog: number;
  /** See {@linkcode ServeOptions}. */
  recvBytes: number;
  /** See {@linkcode ServeOptions}. */
  outbufOverflow: number;
  /** See {@linkcode ServeOptions}. */
  outbufHighWatermark: number;
  /** See {@linkcode ServeOptions}. */
  inbufOverflow: number;
  /** See {@linkcode ServeOptions}. */
  connectionLimit: number;
  /** See {@linkcode ServeOptions}. */
  cleanupInterval: number;
  /** See {@linkcode ServeOptions}. */
  channelTimeout: number;
  /** See {@linkcode ServeOptions}. */
  logSocketErrors: boolean;
  /** See {@linkcode ServeOptions}. */
  maxRequestHeaderSize: number;
  /** See {@linkcode ServeOptions}. */
  maxRequestBodySize: number;
  /** See {@linkcode ServeOptions}. */
  exposeTracebacks: boolean;
  /** The Server header; "" for none. */
  ident: string;
  /** See {@linkcode ServeOptions}. */
  urlScheme: string;
  /** Normalised as waitress does: "" or "/prefix". */
  urlPrefix: string;
  /** See {@linkcode ServeOptions}. */
  serverName: string;
  /** See {@linkcode ServeOptions}. */
  channelRequestLookahead: number;
  /** undefined when no proxy is trusted. */
  trustedProxy: string | undefined;
  /** See {@linkcode ServeOptions}. */
  trustedProxyCount: number;
  /** Lower-cased trusted header names. */
  trustedProxyHeaders: Set<string>;
  /** See {@linkcode ServeOptions}. */
  clearUntrustedProxyHeaders: boolean;
  /** See {@linkcode ServeOptions}. */
  logUntrustedProxyHeaders: boolean;
}

/** An option has a value it cannot take; the message names the option. */
export class OptionError extends Error {
  /** The camelCase name of the offending option. */
  readonly option: string;
  /** Builds the error for `option` with a message saying what was expected. */
  constructor(option: string, message: string) {
    super(message);
    this.name = "OptionError";
    this.option = option;
  }
}

const TRUE_WORDS = new Set(["t", "true", "y", "yes", "on", "1"]);
const FALSE_WORDS = new Set(["f", "false", "n", "no", "off", "0"]);

function describe(name: string): string {
  const spec = (OPTION_TABLE as Record<string, OptionSpec>)[name];
  return spec ? `${name} (--${spec.flag})` : name;
}

/** Reads a boolean from `true`/`false`, or a word such as `yes`, `off`, `1`. */
export function parseBoolean(name: string, value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  throw new OptionError(
    name,
    `Invalid value for ${describe(name)}: expected a boolean (true/false), got ${JSON.stringify(value)}`,
  );
}

/** Reads a whole number, from a number or a decimal string, with a lower bound. */
export function parseInteger(name: string, value: unknown, min = 0): number {
  let n = NaN;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new OptionError(
      name,
      `Invalid value for ${describe(name)}: expected an integer, got ${JSON.stringify(value)}`,
    );
  }
  if (n < min) {
    throw new OptionError(name, `Invalid value for ${describe(name)}: must be at least ${min}, got ${n}`);
  }
  return n;
}

/** Reads file permissions: a number, or an octal string such as `660`. */
export function parseOctal(name: string, value: unknown): number {
  let n = NaN;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^\s*(0o)?[0-7]{1,4}\s*$/i.test(value)) {
    n = parseInt(value.trim().replace(/^0o/i, ""), 8);
  }
  if (!Number.isInteger(n) || n < 0 || n > 0o7777) {
    throw new OptionError(
      name,
      `Invalid value for ${describe(name)}: expected octal permissions such as 600, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Reads a list: an array of strings, or a string split on whitespace (waitress's aslist). */
export function parseList(name: string, value: unknown): string[] {
  if (typeof value === "string") return value.split(/\s+/).filter((s) => s !== "");
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return value.flatMap((v: string) => v.split(/\s+/)).filter((s) => s !== "");
  }
  throw new OptionError(
    name,
    `Invalid value for ${describe(name)}: expected a string or a list of strings, got ${JSON.stringify(value)}`,
  );
}

function parseString(name: string, value: unknown): string {
  if (typeof value === "string") return value;
  throw new OptionError(name, `Invalid value for ${describe(name)}: expected a string, got ${JSON.stringify(value)}`);
}

/**
 * A string option that ends up in every request.url or response head, checked
 * where waitress takes any text: a scheme (RFC 3986 3.1), a host[:port], or
 * header text without CR, LF or other controls.
 */
function checkedText(name: OptionName, value: string, kind: "scheme" | "host" | "header"): string {
  const ok = kind === "scheme"
    ? /^[A-Za-z][A-Za-z0-9+.-]*$/.test(value)
    : kind === "host"
    ? value !== "" && isHostPort(value, false)
    : isFieldText(value);
  if (ok) return value;
  const expected = kind === "scheme" ? "a URL scheme" : kind === "host" ? "a host name, with an optional port" : "text";
  throw new OptionError(
    name,
    `Invalid value for ${describe(name)}: expected ${expected}, got ${JSON.stringify(value)}`,
  );
}

/** waitress's slash_fixed_str: "" stays "", anything else becomes "/" + trimmed of outer slashes. */
export function normalizeUrlPrefix(value: string): string {
  const trimmed = value.trim();
  if (trimmed === "") return "";
  return "/" + trimmed.replace(/^\/+/, "").replace(/\/+$/, "");
}

/**
 * Splits one `--listen` entry into host and port as waitress does: on the
 * last `:`, unless what follows contains `]` (a bare `[::1]`); brackets are
 * removed; an entry without a port uses `defaultPort`.
 */
export function splitListenEntry(entry: string, defaultPort: number): { host: string; port: number } {
  let host = entry;
  let portText = "";
  const colon = entry.lastIndexOf(":");
  if (colon >= 0 && !entry.slice(colon + 1).includes("]")) {
    host = entry.slice(0, colon);
    portText = entry.slice(colon + 1);
  }
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  let port = defaultPort;
  if (portText !== "") {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
      throw new OptionError("listen", `Invalid value for ${describe("listen")}: bad port in ${JSON.stringify(entry)}`);
    }
    port = Number(portText);
  }
  if (host === "") {
    throw new OptionError("listen", `Invalid value for ${describe("listen")}: no host in ${JSON.stringify(entry)}`);
  }
  return { host, port };
}

function isIPv6Literal(host: string): boolean {
  return host.includes(":");
}

function isIPv4Literal(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/** Expands one host into the addresses to bind, honouring the ipv4/ipv6 switches. */
function expandHost(host: string, port: number, ipv4: boolean, ipv6: boolean): BindTarget[] {
  // waitress quirk kept: both switched off behaves like both on.
  const want4 = ipv4 || !ipv6;
  const want6 = ipv6 || !ipv4;
  const targets: BindTarget[] = [];
  const add = (hostname: string, v6: boolean) => targets.push({ transport: "tcp", hostname, port, ipv6Only: v6 });
  if (host === "*") {
    // IPv6 first: where a runtime cannot set IPV6_V6ONLY, `::` is dual-stack and the server
    // then treats "0.0.0.0 in use" as already covered.
    if (want6) add("::", true);
    if (want4) add("0.0.0.0", false);
  } else if (host === "localhost") {
    if (want4) add("127.0.0.1", false);
    if (want6) add("::1", true);
  } else if (isIPv6Literal(host)) {
    if (!want6) throw new OptionError("ipv6", `IPv6 is disabled but ${host} is an IPv6 address`);
    add(host, true);
  } else if (isIPv4Literal(host)) {
    if (!want4) throw new OptionError("ipv4", `IPv4 is disabled but ${host} is an IPv4 address`);
    add(host, false);
  } else {
    add(host, false);
  }
  return targets;
}

function bindKey(t: BindTarget): string {
  return t.transport === "unix" ? `unix:${t.path}` : `${t.hostname.split("%")[0]}|${t.port}`;
}

function resolveBinds(opts: ServeOptions): BindTarget[] {
  const hasHostPort = opts.host !== undefined || opts.port !== undefined;
  const hasListen = opts.listen !== undefined;
  const hasUnix = opts.unixSocket !== undefined && opts.unixSocket !== "";
  if (hasListen && hasHostPort) {
    throw new OptionError("listen", "listen (--listen) cannot be combined with host (--host) or port (--port)");
  }
  if (hasUnix && (hasHostPort || hasListen)) {
    throw new OptionError(
      "unixSocket",
      "unixSocket (--unix-socket) cannot be combined with host (--host), port (--port) or listen (--listen)",
    );
  }
  if (hasUnix) return [{ transport: "unix", path: parseString("unixSocket", opts.unixSocket) }];
  const port = opts.port === undefined ? 8080 : parseInteger("port", opts.port, 0);
  if (port > 65535) throw new OptionError("port", `Invalid value for ${describe("port")}: must be at most 65535`);
  const ipv4 = opts.ipv4 === undefined ? true : parseBoolean("ipv4", opts.ipv4);
  const ipv6 = opts.ipv6 === undefined ? true : parseBoolean("ipv6", opts.ipv6);
  const entries = hasListen
    ? parseList("listen", opts.listen)
    : [`${opts.host === undefined ? "0.0.0.0" : parseString("host", opts.host)}:${port}`];
  if (entries.length === 0) throw new OptionError("listen", "listen needs at least one entry");
  const seen = new Set<string>();
  const binds: BindTarget[] = [];
  for (const entry of entries) {
    const { host, port: p } = hasListen ? splitListenEntry(entry, port) : splitListenEntry(entry, port);
    for (const t of expandHost(host, p, ipv4, ipv6)) {
      const key = bindKey(t);
      // waitress drops duplicate address/port pairs, except port 0.
      if (t.transport === "tcp" && t.port !== 0 && seen.has(key)) continue;
      seen.add(key);
      binds.push(t);
    }
  }
  return binds;
}

function resolveProxyHeaders(opts: ServeOptions, trusted: string | undefined): Set<string> {
  if (opts.trustedProxyHeaders === undefined) {
    // waitress's (deprecated) implicit default when a proxy is trusted.
    return new Set(trusted === undefined ? [] : ["x-forwarded-proto"]);
  }
  const names = parseList("trustedProxyHeaders", opts.trustedProxyHeaders).map((s) => s.toLowerCase());
  if (names.length > 0 && trusted === undefined) {
    throw new OptionError(
      "trustedProxyHeaders",
      "trustedProxyHeaders (--trusted-proxy-headers) requires trustedProxy (--trusted-proxy) to be set",
    );
  }
  for (const n of names) {
    if (!KNOWN_PROXY_HEADERS.includes(n)) {
      throw new OptionError(
        "trustedProxyHeaders",
        `Unknown trusted proxy header ${JSON.stringify(n)}; known: ${KNOWN_PROXY_HEADERS.join(", ")}`,
      );
    }
  }
  const set = new Set(names);
  if (set.has("forwarded") && names.some((n) => n.startsWith("x-forwarded-"))) {
    throw new OptionError(
      "trustedProxyHeaders",
      "The Forwarded proxy header and the X-Forwarded-{By,Host,Proto,Port,For} headers are mutually exclusive",
    );
  }
  return set;
}

const KNOWN_NAMES = new Set(Object.keys(OPTION_TABLE));

/** Options `serve()` takes besides the waitress table. */
const ENGINE_ONLY = new Set([
  "logger",
  "onListen",
  "signal",
  "tls",
  "certfile",
  "keyfile",
  "keyfilePassword",
  "caCerts",
  "certReqs",
  "accessLogfile",
  "accessLogformat",
]);

/**
 * Applies defaults, parses and validates every option, and resolves where to
 * listen. Throws {@linkcode OptionError} naming the option on bad input.
 */
export function resolveAdjustments(options: ServeOptions = {}): Adjustments {
  for (const key of Object.keys(options)) {
    if (!KNOWN_NAMES.has(key) && !ENGINE_ONLY.has(key)) {
      throw new OptionError(key, `Unknown option ${JSON.stringify(key)}`);
    }
  }
  const o = options;
  const int = (name: OptionName, fallback: number): number => {
    const v = o[name];
    return v === undefined ? fallback : parseInteger(name, v, OPTION_TABLE[name].min ?? 0);
  };
  const bool = (name: OptionName, fallback: boolean): boolean => {
    const v = o[name];
    return v === undefined ? fallback : parseBoolean(name, v);
  };
  const str = (name: OptionName, fallback: string): string => {
    const v = o[name];
    return v === undefined ? fallback : parseString(name, v);
  };
  const trustedRaw = o.trustedProxy === undefined ? "" : parseString("trustedProxy", o.trustedProxy).trim();
  const trustedProxy = trustedRaw === "" ? undefined : trustedRaw;
  if (o.trustedProxyCount !== undefined && trustedProxy === undefined) {
    throw new OptionError(
      "trustedProxyCount",
      "trustedProxyCount (--trusted-proxy-count) requires trustedProxy (--trusted-proxy) to be set",
    );
  }
  int("sendBytes", 1);
  int("asyncoreLoopTimeout", 1);
  bool("asyncoreUsePoll", false);
  return {
    binds: resolveBinds(o),
    unixSocketPerms: o.unixSocketPerms === undefined ? 0o600 : parseOctal("unixSocketPerms", o.unixSocketPerms),
    threads: int("threads", 4),
    backlog: int("backlog", 1024),
    recvBytes: int("recvBytes", 8192),
    outbufOverflow: int("outbufOverflow", 1048576),
    outbufHighWatermark: int("outbufHighWatermark", 16777216),
    inbufOverflow: int("inbufOverflow", 524288),
    connectionLimit: int("connectionLimit", 100),
    cleanupInterval: int("cleanupInterval", 30),
    channelTimeout: int("channelTimeout", 120),
    logSocketErrors: bool("logSocketErrors", true),
    maxRequestHeaderSize: int("maxRequestHeaderSize", 262144),
    maxRequestBodySize: int("maxRequestBodySize", 1073741824),
    exposeTracebacks: bool("exposeTracebacks", false),
    ident: checkedText("ident", str("ident", "waitress"), "header"),
    urlScheme: checkedText("urlScheme", str("urlScheme", "http"), "scheme"),
    urlPrefix: normalizeUrlPrefix(str("urlPrefix", "")),
    serverName: checkedText("serverName", str("serverName", "waitress.invalid"), "host"),
    channelRequestLookahead: int("channelRequestLookahead", 0),
    trustedProxy,
    trustedProxyCount: int("trustedProxyCount", 1),
    trustedProxyHeaders: resolveProxyHeaders(o, trustedProxy),
    clearUntrustedProxyHeaders: bool("clearUntrustedProxyHeaders", true),
    logUntrustedProxyHeaders: bool("logUntrustedProxyHeaders", false),
  };
}
