/**
 * What the peer of a connection looks like to the engine: its address the
 * same on every runtime, and which socket errors only mean it went away.
 *
 * @module
 */
import type { RemoteAddr } from "./types.ts";

/** IPv4-mapped IPv6 ("::ffff:192.0.2.1"), as an IPv4 peer of a dual-stack IPv6 socket is reported. */
const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * An IPv4 peer as "192.0.2.1" however it arrived. On Deno a "*" listener is
 * one dual-stack "::" socket, which reports IPv4 peers as "::ffff:192.0.2.1";
 * without this, `trustedProxy: "127.0.0.1"` would not match them there and
 * `info.remoteAddr` would differ between runtimes.
 */
export function withUnmappedIPv4(remote: RemoteAddr): RemoteAddr {
  const m = remote.transport === "tcp" ? MAPPED_IPV4.exec(remote.hostname) : null;
  return m === null ? remote : { ...remote, hostname: m[1] };
}

/** Error codes that only mean the client went away: not worth a log line (waitress closes silently too). */
const DISCONNECT_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ConnectionReset",
  "BrokenPipe",
  "ConnectionAborted",
]);

/** True for a socket error that only says the peer left (Node's codes, Deno's and Bun's names). */
export function isDisconnect(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const e = error as { code?: unknown; name?: unknown };
  return DISCONNECT_CODES.has(String(e.code)) || DISCONNECT_CODES.has(String(e.name));
}
