/**
 * The one option table: waitress's adjustments, each row with its typed
 * default, its parser and its help text. `serve()`'s options, the resolved
 * values, the `waitress-serve` flags, `--help` and the README's option table
 * are all derived from it.
 *
 * @module
 */
import { compileAccessFormat, DEFAULT_ACCESS_LOG_FORMAT } from "./access_log.ts";
import { boolean, choice, integer, list, octal, optionalText, type OptionSpec, secret, text } from "./option_spec.ts";
import { normalizeUrlPrefix, OptionError, parseCheckedText, parseString } from "./option_values.ts";

/**
 * What every waitress adjustment holds once read, by its camelCase name. The
 * CLI flag of each is the hyphenated name (`maxRequestBodySize` is
 * `--max-request-body-size`); defaults and help are in {@linkcode OPTION_TABLE}
 * (and the README's option table, generated from it).
 */
export interface OptionValues {
  /** Address to listen on. Not with `listen` or `unixSocket`. */
  host: string;
  /** Port to listen on; also the port of `listen` entries that name none. */
  port: number;
  /** `host:port` entries, one listener each; `*` is every address, `[::1]:80` is IPv6. */
  listen: readonly string[];
  /** Use IPv4 addresses. */
  ipv4: boolean;
  /** Use IPv6 addresses. */
  ipv6: boolean;
  /** Listen on this unix socket path instead of TCP. */
  unixSocket: string;
  /** Permissions of the unix socket file, octal. */
  unixSocketPerms: number;
  /** Scheme of `request.url`. */
  urlScheme: string;
  /** Path prefix the application is mounted at (waitress's SCRIPT_NAME). */
  urlPrefix: string;
  /** Value of the Server header; empty for none. */
  ident: string;
  /** Host name of `request.url` when the request has no Host. */
  serverName: string;
  /** Peer address allowed to set proxy headers; `*` trusts every peer. */
  trustedProxy: string | undefined;
  /** How many trailing proxy hops to trust. */
  trustedProxyCount: number;
  /** Proxy headers to honour: `x-forwarded-for`, `-host`, `-proto`, `-port`, `-by`, or `forwarded`. */
  trustedProxyHeaders: readonly string[];
  /** Remove proxy headers that are not trusted before the application sees them. */
  clearUntrustedProxyHeaders: boolean;
  /** Log the untrusted proxy headers that were removed. */
  logUntrustedProxyHeaders: boolean;
  /** Put the error's stack in the body of 500 responses. */
  exposeTracebacks: boolean;
  /** Serve HTTPS on every TCP listener with this PEM certificate chain (a path, or the PEM text). */
  certfile: string | undefined;
  /** The certificate's PEM private key (a path, or the PEM text); the certificate file's own key when absent. */
  keyfile: string | undefined;
  /** The password of an encrypted `keyfile`. */
  keyfilePassword: string | undefined;
  /** PEM CA certificates that client certificates must chain to (a path, or the PEM text). */
  caCerts: string | undefined;
  /** Client certificates: `none`, `optional` (verified when sent) or `required`. */
  certReqs: string;
  /** Write one access log line per response to this file; `-` is standard output. */
  accessLogfile: string | undefined;
  /** The access log line, in gunicorn's `%(atom)s` format. */
  accessLogformat: string;
  /** Worker processes; above 1 (or with `reload`) a supervisor runs them, see `supervise()`. */
  workers: number;
  /** Development: restart the workers when a source file changes; see `supervise()`. */
  reload: boolean;
  /** How many requests the application may process at once. */
  threads: number;
  /** Listen backlog. */
  backlog: number;
  /** Accepted for compatibility, no effect: the runtimes choose the read size. */
  recvBytes: number;
  /** Deprecated in waitress; accepted and ignored. */
  sendBytes: number;
  /** Pending response bytes above this go to a temporary file. */
  outbufOverflow: number;
  /** The application's body stream waits while more than this is pending. */
  outbufHighWatermark: number;
  /** Request bodies larger than this keep this many bytes in memory and the rest in a temporary file. */
  inbufOverflow: number;
  /** Stop accepting new connections at this many open ones. */
  connectionLimit: number;
  /** Seconds between sweeps for idle connections. */
  cleanupInterval: number;
  /** Seconds an idle connection (no request in flight) is kept open. */
  channelTimeout: number;
  /** Seconds a request body may take before it must keep arriving at `bodyMinRate`; 0: no limit. */
  bodyTimeout: number;
  /** Bytes a second a request body must keep arriving at after `bodyTimeout` (mod_reqtimeout's MinRate). */
  bodyMinRate: number;
  /** Log client disconnects and socket errors. */
  logSocketErrors: boolean;
  /** Largest request line plus headers, in bytes; larger gets 431. */
  maxRequestHeaderSize: number;
  /** Largest request body, in bytes; larger gets 413. */
  maxRequestBodySize: number;
  /** Requests read ahead while one is in flight; above 0 client disconnects are noticed. */
  channelRequestLookahead: number;
  /** Python asyncore only: accepted for compatibility, no effect. */
  asyncoreLoopTimeout: number;
  /** Python asyncore only: accepted for compatibility, no effect. */
  asyncoreUsePoll: boolean;
}

/** Names of the options in the table. */
export type OptionName = keyof OptionValues;

/** What `serve()` takes for an option: lists also as one space-separated string, permissions also as octal text. */
export type OptionInput<T> = T extends readonly string[] ? string | string[] : T;

/**
 * Options of `serve()`: every waitress adjustment as an optional camelCase
 * field (see {@linkcode OptionValues} for each), with waitress's default.
 */
export type ServeOptions =
  & { [K in Exclude<OptionName, "unixSocketPerms">]?: OptionInput<OptionValues[K]> }
  & {
    /** Permissions of the unix socket file, as a number (0o600) or octal text ("600"). */
    unixSocketPerms?: number | string;
  };

/** The table's type: one row per option, typed by what the option holds. */
export type OptionTable = { readonly [K in OptionName]: OptionSpec<OptionValues[K]> };

/** An access log format, compiled once here so that a bad atom is an option error. */
function readAccessFormat(name: string, value: unknown): string {
  const format = parseString(name, value);
  try {
    compileAccessFormat(format);
  } catch (error) {
    throw new OptionError(name, `Invalid value for ${name} (--access-logformat): ${(error as Error).message}`);
  }
  return format;
}

/**
 * The option table, in `--help` order. Its type makes the compiler check that
 * every option of {@linkcode OptionValues} has exactly one row, of its type.
 */
export const OPTION_TABLE: OptionTable = {
  host: text("0.0.0.0", {
    flag: "host",
    metavar: "ADDR",
    group: "standard",
    help: "Hostname or IP address on which to listen. Not with --listen or --unix-socket.",
  }),
  port: integer(8080, {
    flag: "port",
    metavar: "PORT",
    group: "standard",
    min: 0,
    max: 65535,
    help: "TCP port on which to listen; also the port of --listen entries that give none.",
  }),
  listen: list(["0.0.0.0:8080"], {
    flag: "listen",
    metavar: "ip:port",
    group: "standard",
    multiple: true,
    help:
      "Tell waitress to listen on an ip port combination. `*:8080` listens on every address, `[::1]:8080` on an IPv6 one. May be given several times.",
  }),
  ipv4: boolean(true, { flag: "ipv4", group: "standard", help: "Use IPv4 addresses when resolving --listen entries." }),
  ipv6: boolean(true, { flag: "ipv6", group: "standard", help: "Use IPv6 addresses when resolving --listen entries." }),
  unixSocket: text("", {
    flag: "unix-socket",
    metavar: "PATH",
    group: "standard",
    help: "Path of a unix socket to listen on instead of TCP. A stale socket file there is removed first.",
  }),
  unixSocketPerms: octal(0o600, {
    flag: "unix-socket-perms",
    metavar: "PERMS",
    group: "standard",
    help: "Octal permissions of the unix socket file.",
  }),
  urlScheme: text("http", {
    flag: "url-scheme",
    metavar: "STR",
    group: "standard",
    read: (name, value) => parseCheckedText(name, value, "scheme"),
    help: "Scheme of request.url (waitress's wsgi.url_scheme).",
  }),
  urlPrefix: text("", {
    flag: "url-prefix",
    metavar: "STR",
    group: "standard",
    read: (name, value) => normalizeUrlPrefix(parseString(name, value)),
    help:
      "Path prefix the application is mounted at (SCRIPT_NAME). It is split off request.url and given as info.urlPrefix.",
  }),
  ident: text("waitress", {
    flag: "ident",
    metavar: "STR",
    group: "standard",
    read: (name, value) => parseCheckedText(name, value, "header"),
    help: "Value of the Server response header. Empty sends no Server header.",
  }),
  serverName: text("waitress.invalid", {
    flag: "server-name",
    metavar: "NAME",
    group: "standard",
    read: (name, value) => parseCheckedText(name, value, "host"),
    help: "Host name used in request.url when the request carries no Host header, or an empty one.",
  }),
  trustedProxy: optionalText({
    flag: "trusted-proxy",
    metavar: "IP",
    group: "standard",
    help: "IP address of a proxy whose forwarding headers are trusted; `*` trusts every peer.",
  }),
  trustedProxyCount: integer(1, {
    flag: "trusted-proxy-count",
    metavar: "INT",
    group: "standard",
    min: 1,
    help: "How many trailing proxies of X-Forwarded-For/Host or Forwarded to trust. Needs --trusted-proxy.",
  }),
  trustedProxyHeaders: list(["x-forwarded-proto"], {
    flag: "trusted-proxy-headers",
    metavar: "LIST",
    group: "standard",
    help:
      "Space-separated proxy headers to trust: x-forwarded-for, x-forwarded-host, x-forwarded-proto, x-forwarded-port, x-forwarded-by, or forwarded (alone). Needs --trusted-proxy; with it and without this, x-forwarded-proto alone is trusted.",
  }),
  clearUntrustedProxyHeaders: boolean(true, {
    flag: "clear-untrusted-proxy-headers",
    group: "standard",
    help: "Remove proxy headers that are not trusted before the application sees them.",
  }),
  logUntrustedProxyHeaders: boolean(false, {
    flag: "log-untrusted-proxy-headers",
    group: "standard",
    help: "Log the untrusted proxy headers that were removed.",
  }),
  exposeTracebacks: boolean(false, {
    flag: "expose-tracebacks",
    group: "standard",
    help: "Show the error's stack in the body of 500 responses. Never in production.",
  }),
  certfile: optionalText({
    flag: "certfile",
    metavar: "FILE",
    group: "standard",
    help:
      "Serve HTTPS on every TCP listener with this PEM certificate chain (a path or the PEM text). Re-read on SIGHUP.",
  }),
  keyfile: optionalText({
    flag: "keyfile",
    metavar: "FILE",
    group: "standard",
    help: "The certificate's PEM private key (a path or the PEM text); without it, the key in --certfile.",
  }),
  keyfilePassword: secret({
    flag: "keyfile-password",
    metavar: "PASSWORD",
    group: "standard",
    help: "Password of an encrypted --keyfile.",
  }),
  caCerts: optionalText({
    flag: "ca-certs",
    metavar: "FILE",
    group: "standard",
    help: "PEM CA certificates that client certificates must chain to (a path or the PEM text).",
  }),
  certReqs: choice("none", ["none", "optional", "required"], {
    flag: "cert-reqs",
    metavar: "WORD",
    group: "standard",
    help: "Client certificates: none, optional (verified when sent) or required. Not none needs --ca-certs.",
  }),
  accessLogfile: optionalText({
    flag: "access-logfile",
    metavar: "PATH",
    group: "standard",
    help:
      "Write an access log line per response to this file (appending; `-` is standard output). Reopened on SIGUSR1.",
  }),
  accessLogformat: text(DEFAULT_ACCESS_LOG_FORMAT, {
    flag: "access-logformat",
    metavar: "FORMAT",
    group: "standard",
    read: readAccessFormat,
    help:
      "The access log line, with gunicorn's atoms (`%(h)s`, `%(r)s`, `%({header}i)s`...). The default is the Apache combined format.",
  }),
  workers: integer(1, {
    flag: "workers",
    metavar: "INT",
    group: "standard",
    min: 1,
    help:
      "Worker processes serving the app. Above 1 a supervisor binds the listeners once, hands each connection to a worker, and replaces workers that die; SIGHUP replaces every worker without dropping a request, SIGTTIN/SIGTTOU add/remove one. --threads, --connection-limit and the other per-server options apply to each worker.",
  }),
  reload: boolean(false, {
    flag: "reload",
    group: "standard",
    help:
      "Development: restart the workers (one unless --workers says more) when a file under the current directory changes, node_modules and dot-directories aside. A change that does not load keeps the error on screen until the next one.",
  }),
  threads: integer(4, {
    flag: "threads",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "How many requests the application may process at once; more wait in arrival order.",
  }),
  backlog: integer(1024, {
    flag: "backlog",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Connection backlog of the listening socket.",
  }),
  recvBytes: integer(8192, {
    flag: "recv-bytes",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help:
      "Accepted for compatibility, no effect: the socket APIs of Node, Deno and Bun choose the read size themselves.",
  }),
  sendBytes: integer(1, {
    flag: "send-bytes",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Deprecated in waitress and ignored here.",
  }),
  outbufOverflow: integer(1048576, {
    flag: "outbuf-overflow",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help: "Pending response bytes of a connection above this are kept in a temporary file.",
  }),
  outbufHighWatermark: integer(16777216, {
    flag: "outbuf-high-watermark",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "A response body stream is not read while more than this many bytes wait to be sent.",
  }),
  inbufOverflow: integer(524288, {
    flag: "inbuf-overflow",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help: "Request bodies larger than this keep this many bytes in memory and the rest in a temporary file.",
  }),
  connectionLimit: integer(100, {
    flag: "connection-limit",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Stop accepting connections while this many are open; waiting clients are served as others close.",
  }),
  cleanupInterval: integer(30, {
    flag: "cleanup-interval",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Seconds between sweeps that close idle connections.",
  }),
  channelTimeout: integer(120, {
    flag: "channel-timeout",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Seconds a connection with no request in flight may stay idle before it is closed.",
  }),
  bodyTimeout: integer(20, {
    flag: "body-timeout",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help:
      "Seconds a request body may take before it must keep arriving at --body-min-rate (408 if it falls behind). 0: no limit.",
  }),
  bodyMinRate: integer(500, {
    flag: "body-min-rate",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help:
      "Bytes a second a request body must arrive at after --body-timeout: each this many bytes earn it one more second.",
  }),
  logSocketErrors: boolean(true, {
    flag: "log-socket-errors",
    group: "tuning",
    help: "Log client disconnects and socket errors.",
  }),
  maxRequestHeaderSize: integer(262144, {
    flag: "max-request-header-size",
    metavar: "INT",
    group: "tuning",
    min: 1,
    help: "Largest request line plus headers, in bytes. Larger requests get 431.",
  }),
  maxRequestBodySize: integer(1073741824, {
    flag: "max-request-body-size",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help: "Largest request body, in bytes. Larger requests get 413.",
  }),
  channelRequestLookahead: integer(0, {
    flag: "channel-request-lookahead",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help:
      "Requests to read ahead while one is in flight. Above 0 a client that goes away is noticed and request.signal aborts.",
  }),
  asyncoreLoopTimeout: integer(1, {
    flag: "asyncore-loop-timeout",
    metavar: "INT",
    group: "tuning",
    min: 0,
    help: "Python asyncore only: accepted for compatibility, no effect.",
  }),
  asyncoreUsePoll: boolean(false, {
    flag: "asyncore-use-poll",
    group: "tuning",
    help: "Python asyncore only: accepted for compatibility, no effect.",
  }),
};

/** The names of the options, in table order. */
export const OPTION_NAMES: readonly OptionName[] = Object.keys(OPTION_TABLE) as OptionName[];
