/**
 * Trusted proxy headers (waitress's proxy_headers.py): when the peer is the
 * trusted proxy, `X-Forwarded-*` or `Forwarded` rewrite the client address,
 * scheme and authority the application sees; proxy headers that are not
 * trusted are removed so the application cannot be fooled by a client.
 *
 * One pure function per request; it never mutates its input.
 *
 * @module
 */
import type { Adjustments } from "./adjustments.ts";
import type { Logger } from "./logger.ts";
import { isHostPort } from "./grammar.ts";
import { Malformed, parseForwarded, portNumber, singleValue, splitClient, trustedHops } from "./proxy_values.ts";

/** What the request looks like before proxy headers are applied. */
export interface ProxyInput {
  /** Peer IP without brackets; "" for unix sockets (compared as waitress's "localhost"). */
  remoteHost: string;
  /** Peer port (0 for unix sockets). */
  remotePort: number;
  /** The configured URL scheme (`adj.urlScheme`). */
  scheme: string;
  /** Request authority: the Host header, or `adj.serverName` when absent; may carry ":port". */
  host: string;
  /** Flat `[name, value, ...]`, names lower-cased, as received. Never mutated. */
  headers: string[];
}

/** The request as the application should see it. */
export interface ProxyResult {
  /** Client address (brackets removed), or the peer's when no trusted client address was given. */
  remoteHost: string;
  /** Client port when the trusted address carried one (0 when it was not numeric), else the peer's. */
  remotePort: number;
  /** `http` or `https` from a trusted proto, else the input scheme. */
  scheme: string;
  /** Authority for the request URL: `host[:port]`, the port only when not the scheme's default. */
  host: string;
  /** A new flat array when headers were removed or trimmed, else the input array itself. */
  headers: string[];
}

/** A trusted proxy header could not be parsed: the caller answers 400 with `error`. */
export interface ProxyError {
  /** The 400 body detail, `Header "X-Forwarded-Proto" malformed.` (waitress's wording). */
  error: string;
  /** waitress's log line with the peer, the reason and the offending value, for the warning. */
  warning: string;
}

/** The adjustments this module reads. */
export type ProxyAdjustments = Pick<
  Adjustments,
  | "trustedProxy"
  | "trustedProxyCount"
  | "trustedProxyHeaders"
  | "clearUntrustedProxyHeaders"
  | "logUntrustedProxyHeaders"
>;

// One bit per proxy header, so "present" and "untrusted" are plain integers.
const FOR = 1;
const HOST = 2;
const PROTO = 4;
const PORT = 8;
const BY = 16;
const FORWARDED = 32;
const ALL = FOR | HOST | PROTO | PORT | BY | FORWARDED;

/** Header names as waitress logs them, by bit index. */
const DISPLAY_NAMES = [
  "X-Forwarded-For",
  "X-Forwarded-Host",
  "X-Forwarded-Proto",
  "X-Forwarded-Port",
  "X-Forwarded-By",
  "Forwarded",
];

/** The bit of a lower-cased header name, 0 when it is not a proxy header. */
function proxyBit(name: string): number {
  // Cheap reject first: every proxy header starts with "x" or "f".
  const c = name.charCodeAt(0);
  if (c !== 120 && c !== 102) return 0;
  switch (name) {
    case "x-forwarded-for":
      return FOR;
    case "x-forwarded-host":
      return HOST;
    case "x-forwarded-proto":
      return PROTO;
    case "x-forwarded-port":
      return PORT;
    case "x-forwarded-by":
      return BY;
    case "forwarded":
      return FORWARDED;
    default:
      return 0;
  }
}

/**
 * True when any proxy header is present. Without one, {@linkcode applyProxyHeaders} changes nothing
 * whatever the configuration, so a request without them pays only this loop over its names.
 */
export function hasProxyHeader(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) if (proxyBit(headers[i]) !== 0) return true;
  return false;
}

/** Index 0..5 of a single bit. */
function bitIndex(bit: number): number {
  return 31 - Math.clz32(bit);
}

/** Proxy header values found in a request, duplicates joined with ", " as waitress's environ does. */
interface Found {
  present: number;
  /** More than one field line of this header (a rewrite must collapse them). */
  repeated: number;
  values: string[];
}

/** One pass over the flat headers; null (no allocation) when no proxy header is present. */
function scan(headers: string[]): Found | null {
  let found: Found | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const bit = proxyBit(headers[i]);
    if (bit === 0) continue;
    if (found === null) found = { present: 0, repeated: 0, values: ["", "", "", "", "", ""] };
    const k = bitIndex(bit);
    if (found.present & bit) {
      found.repeated |= bit;
      found.values[k] += ", " + headers[i + 1];
    } else {
      found.present |= bit;
      found.values[k] = headers[i + 1];
    }
  }
  return found;
}

/** What trusted headers say; "" / null means "not given". */
interface Forwarding {
  client: string | null;
  host: string;
  proto: string;
  port: string;
  untrusted: number;
  /** Rewritten (trimmed) values of XFF / XFH / Forwarded, by bit index; null when untouched. */
  rewrites: (string | null)[] | null;
}

/** Applies a trusted Forwarded header: the oldest trusted element that has a field wins it. */
function applyForwarded(f: Forwarding, value: string, count: number, logger: Logger): void {
  const { elements, raw } = parseForwarded(value, logger);
  const start = count > 0 ? Math.max(elements.length - count, 0) : 0;
  // Intermediate proxies may rewrite host or proto; the client-facing values are the oldest ones.
  f.port = "";
  for (let i = elements.length - 1; i >= start; i--) {
    const e = elements[i];
    if (e.for !== "") f.client = e.for;
    if (e.host !== "") f.host = e.host;
    if (e.proto !== "") f.proto = e.proto;
  }
  setRewrite(f, FORWARDED, (count > 0 ? raw.slice(-count) : raw).join(",").trim());
}

function setRewrite(f: Forwarding, bit: number, value: string): void {
  if (f.rewrites === null) f.rewrites = [null, null, null, null, null, null];
  f.rewrites[bitIndex(bit)] = value;
}

/** Reads the headers the configuration trusts (waitress's parse_proxy_headers). */
function parseTrusted(found: Found, adj: ProxyAdjustments, logger: Logger): Forwarding {
  const trusted = adj.trustedProxyHeaders;
  const count = adj.trustedProxyCount;
  const values = found.values;
  const f: Forwarding = { client: null, host: "", proto: "", port: "", untrusted: ALL, rewrites: null };
  if (trusted.has("x-forwarded-for") && found.present & FOR) {
    const hops = trustedHops("X-Forwarded-For", values[0], count);
    f.client = hops.first;
    f.untrusted &= ~FOR;
    setRewrite(f, FOR, hops.trimmed);
  }
  if (trusted.has("x-forwarded-host") && found.present & HOST) {
    const hops = trustedHops("X-Forwarded-Host", values[1], count);
    f.host = hops.first;
    f.untrusted &= ~HOST;
    setRewrite(f, HOST, hops.trimmed);
  }
  if (trusted.has("x-forwarded-proto")) {
    f.proto = singleValue("X-Forwarded-Proto", values[2]);
    f.untrusted &= ~PROTO;
  }
  if (trusted.has("x-forwarded-port")) {
    f.port = singleValue("X-Forwarded-Port", values[3]);
    // Stricter than waitress (which copies any text to SERVER_PORT): the port ends up in a URL.
    if (f.port !== "" && !/^[0-9]+$/.test(f.port)) {
      throw new Malformed("X-Forwarded-Port", "port is not a number", values[3]);
    }
    f.untrusted &= ~PORT;
  }
  // Waitress does not use X-Forwarded-By itself; trusting it only keeps it for the app.
  if (trusted.has("x-forwarded-by")) f.untrusted &= ~BY;
  if (trusted.has("forwarded")) {
    f.untrusted = ALL & ~FORWARDED;
    if (values[5] !== "") applyForwarded(f, values[5], count, logger);
  }
  return f;
}

/** Validates the proto and picks its default port (waitress: the proto's port unless one was given). */
function applyProto(f: Forwarding, forwardedUsed: boolean): void {
  if (f.proto === "") return;
  f.proto = f.proto.toLowerCase();
  if (f.proto !== "http" && f.proto !== "https") {
    throw new Malformed(forwardedUsed ? "Forwarded Proto=" : "X-Forwarded-Proto", "unsupported proto value", f.proto);
  }
  if (f.port === "") f.port = f.proto === "http" ? "80" : "443";
}

/**
 * A forwarded host must be a `uri-host [ ":" port ]`, as Host must (RFC 9110
 * 7.2): it becomes the authority of request.url, where "evil/x", "a@b" or
 * "#" would move the path, hide the host or cut the URL. Stricter than
 * waitress, which copies any text to HTTP_HOST.
 */
function checkHost(f: Forwarding, forwardedUsed: boolean): void {
  if (f.host !== "" && !isHostPort(f.host, false)) {
    throw new Malformed(forwardedUsed ? "Forwarded Host=" : "X-Forwarded-Host", "invalid host", f.host);
  }
}

/**
 * The authority from a forwarded host (waitress's HTTP_HOST rule): a host that
 * carries a port is used as is; otherwise the forwarded port is appended
 * unless it is the scheme's default.
 */
function authority(f: Forwarding, scheme: string): string {
  const h = f.host;
  // "host:port" (not a bare "[v6]"): its port beats X-Forwarded-Port and the proto's.
  if (h.includes(":") && !h.endsWith("]")) return h;
  const p = f.port;
  if (p === "" || (p === "80" && scheme === "http") || (p === "443" && scheme === "https")) return h;
  return `${h}:${p}`;
}

/** The header list the application sees: untrusted ones dropped, trusted ones trimmed. */
function rewriteHeaders(headers: string[], found: Found, remove: number, rewrites: (string | null)[] | null): string[] {
  let change = remove;
  if (rewrites !== null) {
    for (let k = 0; k < 6; k++) {
      const v = rewrites[k];
      const bit = 1 << k;
      if (v !== null && (v !== found.values[k] || found.repeated & bit)) change |= bit;
    }
  }
  if (change === 0) return headers;
  const out: string[] = [];
  let written = 0;
  for (let i = 0; i < headers.length; i += 2) {
    const bit = proxyBit(headers[i]);
    if ((bit & change) === 0) {
      out.push(headers[i], headers[i + 1]);
      continue;
    }
    if (bit & remove || written & bit) continue;
    // A trimmed header replaces its (possibly repeated) lines at the first one's place.
    written |= bit;
    out.push(headers[i], (rewrites as (string | null)[])[bitIndex(bit)] as string);
  }
  return out;
}

/** Names of the headers in `bits`, in waitress's display form, in a stable order. */
function displayNames(bits: number): string {
  const names: string[] = [];
  for (let k = 0; k < 6; k++) if (bits & (1 << k)) names.push(DISPLAY_NAMES[k]);
  return names.join(", ");
}

/** True when the peer may rewrite the request: `*`, or an exact match of its address. */
function isTrusted(trustedProxy: string | undefined, remoteHost: string): boolean {
  if (trustedProxy === undefined) return false;
  // waitress's REMOTE_ADDR for a unix socket peer is "localhost".
  return trustedProxy === "*" || trustedProxy === (remoteHost === "" ? "localhost" : remoteHost);
}

/**
 * Applies waitress's proxy header rules to one request.
 *
 * With a trusted peer, the headers named in `trustedProxyHeaders` rewrite the
 * client address, scheme and authority, and X-Forwarded-For / -Host and
 * Forwarded are trimmed to their last `trustedProxyCount` entries (waitress
 * 3.0.2). With `clearUntrustedProxyHeaders`, every other proxy header is
 * removed (all of them when the peer is not trusted), and logged with
 * `logUntrustedProxyHeaders`.
 *
 * @returns the rewritten view (with the same `headers` array when nothing
 * changed), or a {@linkcode ProxyError} when a trusted header is malformed.
 */
export function applyProxyHeaders(
  input: ProxyInput,
  adj: ProxyAdjustments,
  logger: Logger,
): ProxyResult | ProxyError {
  const found = scan(input.headers);
  if (found === null) return unchanged(input);
  let f: Forwarding | null = null;
  if (isTrusted(adj.trustedProxy, input.remoteHost)) {
    try {
      f = parseTrusted(found, adj, logger);
      const forwardedUsed = adj.trustedProxyHeaders.has("forwarded") && found.values[5] !== "";
      applyProto(f, forwardedUsed);
      checkHost(f, forwardedUsed);
    } catch (error) {
      if (!(error instanceof Malformed)) throw error;
      return malformed(error, input.remoteHost);
    }
  }
  const remove = adj.clearUntrustedProxyHeaders ? found.present & (f === null ? ALL : f.untrusted) : 0;
  if (remove !== 0 && adj.logUntrustedProxyHeaders) {
    logger.warn(
      `Removed untrusted headers (${displayNames(remove)}). Waitress recommends these be removed upstream.`,
    );
  }
  const headers = rewriteHeaders(input.headers, found, remove, f === null ? null : f.rewrites);
  if (f === null) return { ...unchanged(input), headers };
  return forwardedView(input, f, headers);
}

/** The input as a result, nothing rewritten. */
function unchanged(input: ProxyInput): ProxyResult {
  return {
    remoteHost: input.remoteHost,
    remotePort: input.remotePort,
    scheme: input.scheme,
    host: input.host,
    headers: input.headers,
  };
}

/** Builds the result from what the trusted headers said. */
function forwardedView(input: ProxyInput, f: Forwarding, headers: string[]): ProxyResult | ProxyError {
  const scheme = f.proto === "" ? input.scheme : f.proto;
  const host = f.host === "" ? input.host : authority(f, scheme);
  let remoteHost = input.remoteHost;
  let remotePort = input.remotePort;
  if (f.client !== null && f.client !== "") {
    const client = splitClient(f.client);
    if (client.host === "") {
      // waitress crashes (500) on this; a 400 naming the header is kinder.
      return malformed(new Malformed(clientHeader(f), "empty client address", f.client), input.remoteHost);
    }
    remoteHost = client.host;
    if (client.port !== null) remotePort = portNumber(client.port);
  }
  return { remoteHost, remotePort, scheme, host, headers };
}

/** Which header supplied the client address: Forwarded when it was applied, else X-Forwarded-For. */
function clientHeader(f: Forwarding): string {
  return f.rewrites !== null && f.rewrites[5] !== null ? "Forwarded" : "X-Forwarded-For";
}

/** waitress's 400 detail and warning line. */
function malformed(m: Malformed, peer: string): ProxyError {
  return {
    error: `Header "${m.header}" malformed.`,
    warning: `Malformed proxy header "${m.header}" from "${
      peer === "" ? "localhost" : peer
    }": ${m.reason} value: ${m.value}`,
  };
}
