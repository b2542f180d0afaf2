/**
 * Reading the values of proxy headers (waitress's proxy_headers.py and
 * utilities.undquote): quoted values, comma lists of hops, single values,
 * Forwarded elements (RFC 7239) and client addresses. A value that cannot be
 * read throws {@link Malformed}.
 *
 * @module
 */
import { quotedStringValue } from "./grammar.ts";
import type { Logger } from "./logger.ts";

/** Removes valid DQUOTEs and quoted-pair escapes; null when the quoting is broken. */
function undquote(value: string): string | null {
  const opens = value.charCodeAt(0) === 34;
  const closes = value.length > 0 && value.charCodeAt(value.length - 1) === 34;
  if (!opens && !closes) return value;
  return opens && closes ? quotedStringValue(value) : null;
}

/** A proxy header value that cannot be read; applyProxyHeaders turns it into a ProxyError. */
export class Malformed {
  /** The header as waitress names it in its messages. */
  header: string;
  /** What is wrong with it. */
  reason: string;
  /** The offending value. */
  value: string;
  /** Records what is wrong with which header. */
  constructor(header: string, reason: string, value: string) {
    this.header = header;
    this.reason = reason;
    this.value = value;
  }
}

/**
 * Splits a comma list, validates every item's quoting (as waitress does, even
 * for hops that are not trusted), and returns the first trusted item plus the
 * header trimmed to the trusted items (waitress 3.0.2).
 */
export function trustedHops(header: string, value: string, count: number): { first: string; trimmed: string } {
  const raw = value.split(",");
  let first = "";
  const start = count > 0 ? Math.max(raw.length - count, 0) : 0;
  for (let i = 0; i < raw.length; i++) {
    const hop = undquote(raw[i].trim());
    if (hop === null) throw new Malformed(header, "Invalid quoting in value", value);
    if (i === start) first = hop;
  }
  // Python's list[-0:] is the whole list; count is >= 1 in practice anyway.
  const kept = count > 0 ? raw.slice(-count) : raw;
  return { first, trimmed: kept.join(",").trim() };
}

/** A single-valued header (X-Forwarded-Proto / -Port): unquoted, no commas. */
export function singleValue(header: string, value: string): string {
  const v = undquote(value);
  if (v === null) throw new Malformed(header, "Invalid quoting in value", value);
  if (v.includes(",")) {
    throw new Malformed(header, "Unspecified behavior for multiple values found in header", value);
  }
  return v;
}

/** One parsed Forwarded element. */
export interface ForwardedElement {
  for: string;
  host: string;
  proto: string;
}

/** Parses `Forwarded` (RFC 7239) into elements; throws Malformed on a bad pair. */
export function parseForwarded(value: string, logger: Logger): { elements: ForwardedElement[]; raw: string[] } {
  const raw = value.split(",");
  const elements: ForwardedElement[] = [];
  for (const element of raw) {
    const e: ForwardedElement = { for: "", host: "", proto: "" };
    // waitress lower-cases whole pairs, values included.
    for (const pair of element.trim().split(";")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      if (eq < 0) throw new Malformed("Forwarded", 'Invalid forwarded-pair missing "="', value);
      const token = pair.slice(0, eq).toLowerCase();
      const rawValue = pair.slice(eq + 1).toLowerCase();
      if (token.trim() !== token) throw new Malformed("Forwarded", "Token may not be surrounded by whitespace", value);
      if (rawValue.trim() !== rawValue) {
        throw new Malformed("Forwarded", "Value may not be surrounded by whitespace", value);
      }
      const v = undquote(rawValue);
      if (v === null) throw new Malformed("Forwarded", "Invalid quoting in value", value);
      if (token === "for") e.for = v;
      else if (token === "host") e.host = v;
      else if (token === "proto") e.proto = v;
      else if (token !== "by") logger.warn(`Unknown Forwarded token: ${token}`);
    }
    elements.push(e);
  }
  return { elements, raw };
}

/** A client address as `{ host, port }`; port null when the address carries none. */
export function splitClient(addr: string): { host: string; port: string | null } {
  const a = addr.trim();
  if (a.charCodeAt(0) === 91) {
    // "[v6]" or "[v6]:port"
    const close = a.indexOf("]");
    if (close === a.length - 1) return { host: a.slice(1, -1), port: null };
    if (close > 0 && a.charCodeAt(close + 1) === 58) {
      return { host: a.slice(1, close), port: a.slice(close + 2).trim() };
    }
    return { host: a, port: null };
  }
  const colon = a.indexOf(":");
  // Two or more colons without brackets is a bare IPv6 address (waitress brackets such
  // XFF hops); unlike waitress this also covers "::ffff:1.2.3.4", which has a dot.
  if (colon < 0 || colon !== a.lastIndexOf(":")) return { host: a, port: null };
  return { host: a.slice(0, colon).trim(), port: a.slice(colon + 1).trim() };
}

/** Port text to a number; obfuscated or empty ports (RFC 7239 `_hidden`) become 0. */
export function portNumber(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text)) return 0;
  const n = Number(text);
  return n <= 65535 ? n : 0;
}
