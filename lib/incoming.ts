/**
 * The request side of a task (waitress's WSGITask.get_environment): from a
 * parsed head and its body to the `request` and `info` the application is
 * called with. The target is split into path and query, the url prefix is
 * taken off, and trusted proxy headers decide the scheme, authority and peer.
 *
 * @module
 */
import type { Adjustments } from "./adjustments.ts";
import type { InputBuffer } from "./buffers.ts";
import { authorityEnd } from "./grammar.ts";
import type { Logger } from "./logger.ts";
import type { RequestHead } from "./parser.ts";
import { applyProxyHeaders, hasProxyHeader } from "./proxy_headers.ts";
import { ServerRequest } from "./request.ts";
import type { TlsInfo } from "./socket/types.ts";
import type { RemoteAddr, ServeInfo } from "./types.ts";

/** Where a request arrived: the connection's peer and its TLS. */
export interface Arrival {
  readonly remote: RemoteAddr;
  /** The connection's TLS, once its handshake is done; undefined for plain TCP and unix sockets. */
  readonly tls: TlsInfo | undefined;
}

/** What the application is called with. */
export interface Incoming {
  request: ServerRequest;
  info: RequestInfo;
}

/**
 * The `info` argument of one request: `completed` settles once the response
 * has been handed to the OS (or rejects when the connection is lost first).
 * It is a promise only when someone asks for it.
 */
export class RequestInfo implements ServeInfo {
  remoteAddr: RemoteAddr;
  urlPrefix: string;
  tls: TlsInfo | undefined;
  #completed: Promise<void> | null = null;
  #resolve: (() => void) | null = null;
  #reject: ((reason: unknown) => void) | null = null;
  #outcome: "pending" | "done" | "lost" = "pending";
  #reason: unknown = undefined;

  constructor(remoteAddr: RemoteAddr, urlPrefix: string, tls: TlsInfo | undefined) {
    this.remoteAddr = remoteAddr;
    this.urlPrefix = urlPrefix;
    this.tls = tls;
  }

  /** Resolves when the response was sent, rejects when the connection was lost before. */
  get completed(): Promise<void> {
    if (this.#completed === null) {
      if (this.#outcome === "done") this.#completed = Promise.resolve();
      else if (this.#outcome === "lost") this.#completed = Promise.reject(this.#reason);
      else {
        this.#completed = new Promise<void>((resolve, reject) => {
          this.#resolve = resolve;
          this.#reject = reject;
        });
      }
      // Nobody has to await it: an unobserved rejection must not crash the process.
      this.#completed.catch(() => {});
    }
    return this.#completed;
  }

  /** Settles `completed` once: sent (`lost` false), or lost with `reason`. */
  settle(lost: boolean, reason?: unknown): void {
    if (this.#outcome !== "pending") return;
    this.#outcome = lost ? "lost" : "done";
    this.#reason = reason;
    if (lost) this.#reject?.(reason);
    else this.#resolve?.();
  }
}

/**
 * Builds the request and its info, or returns the message of a 400 (a
 * malformed trusted proxy header). Whatever it throws, the task answers
 * with a 500.
 */
export function buildRequest(
  head: RequestHead,
  body: InputBuffer | null,
  arrival: Arrival,
  adj: Adjustments,
  logger: Logger,
): Incoming | string {
  const split = splitTarget(head.target);
  // RFC 9112 3.2.2: the authority of an absolute-form target wins over Host. RFC 9112 3.3: without one, a Host
  // that is absent or empty gives way to the server's own name (an empty one would make "http:///path").
  let authority = split.authority ?? (head.host || adj.serverName);
  let remote = arrival.remote;
  let headers = head.chunked ? dechunkedHeaders(head.headers, body?.length ?? 0) : head.headers;
  // Over TLS the scheme is https, unless a trusted proxy says otherwise below.
  let scheme = arrival.tls === undefined ? adj.urlScheme : "https";
  if ((adj.trustedProxy !== undefined || adj.clearUntrustedProxyHeaders) && hasProxyHeader(headers)) {
    const origin = forwardedOrigin(scheme, authority, remote, headers, adj, logger);
    if (typeof origin === "string") return origin;
    ({ scheme, authority, remote, headers } = origin);
  }
  const path = stripPrefix(split.path, adj.urlPrefix);
  const url = `${schemePrefix(scheme)}${authority}${path}${split.query}`;
  return {
    request: new ServerRequest(head.method, url, headers, body),
    info: new RequestInfo(remote, adj.urlPrefix, arrival.tls),
  };
}

/** `scheme://`, a constant for the two usual schemes. */
function schemePrefix(scheme: string): string {
  return scheme === "http" ? "http://" : scheme === "https" ? "https://" : `${scheme}://`;
}

/** Splits a request target into path and query, as waitress's split_uri does for our purposes. */
export function splitTarget(target: string): { authority: string | null; path: string; query: string } {
  // asterisk-form (OPTIONS *): "/*", as Deno.serve has it; a URL has no way to say "no path".
  if (target === "*") return { authority: null, path: "/*", query: "" };
  let rest = target;
  let authority: string | null = null;
  if (rest.charCodeAt(0) !== 47 /* / */) {
    const scheme = rest.indexOf("://");
    if (scheme > 0) {
      const start = scheme + 3;
      const end = authorityEnd(rest, start);
      authority = rest.slice(start, end);
      rest = rest.slice(end);
    } else {
      // authority-form (CONNECT host:port): no path.
      authority = rest;
      rest = "/";
    }
  }
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  let path = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q) : "";
  if (path === "") path = "/";
  // waitress collapses leading slashes: "//evil.example/x" must not read as a network path.
  if (path.charCodeAt(1) === 47) path = "/" + path.replace(/^\/+/, "");
  return { authority, path, query };
}

/** waitress's SCRIPT_NAME / PATH_INFO split: the path the app sees, with the prefix removed when it applies. */
export function stripPrefix(path: string, prefix: string): string {
  if (prefix === "" || prefix === "/") return path;
  if (path === prefix) return "/";
  if (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47) return path.slice(prefix.length);
  return path;
}

/** The request's own view of where it was sent, after trusted proxy headers. */
interface Origin {
  scheme: string;
  authority: string;
  remote: RemoteAddr;
  headers: string[];
}

/** Scheme, authority, peer and headers after the proxy headers present; a string is a 400 message. */
function forwardedOrigin(
  scheme: string,
  authority: string,
  remote: RemoteAddr,
  headers: string[],
  adj: Adjustments,
  logger: Logger,
): Origin | string {
  const result = applyProxyHeaders(
    { remoteHost: remote.hostname, remotePort: remote.port, scheme, host: authority, headers },
    adj,
    logger,
  );
  if ("error" in result) {
    logger.warn(result.warning);
    return result.error;
  }
  const moved = result.remoteHost !== remote.hostname || result.remotePort !== remote.port;
  return {
    scheme: result.scheme,
    authority: result.host,
    remote: moved ? { transport: remote.transport, hostname: result.remoteHost, port: result.remotePort } : remote,
    headers: result.headers,
  };
}

/** waitress hands the app a de-chunked body: Transfer-Encoding goes, Content-Length gives the decoded length. */
function dechunkedHeaders(pairs: readonly string[], length: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    if (pairs[i] !== "transfer-encoding") out.push(pairs[i], pairs[i + 1]);
  }
  out.push("content-length", String(length));
  return out;
}
