/**
 * The server's side of the opening handshake (RFC 6455 4.2): which requests
 * may be upgraded, the accept key, and the subprotocol offer. Pure apart
 * from SHA-1 from `node:crypto`, which Deno, Bun and Node all provide.
 *
 * Headers are read through `Headers`, which joins a repeated field with ", ":
 * a repeated `Sec-WebSocket-Key` or `Sec-WebSocket-Version` is then simply
 * invalid, never undefined (the `ws` CVE-2024-37890 class).
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The GUID RFC 6455 appends to the key before hashing. */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** A request that cannot be upgraded: the client's fault, answered 400 (426 for the version). */
export class WebSocketHandshakeError extends TypeError {
  /** 400, or 426 when the version is missing or not 13. */
  readonly status: number;

  /** `status` is the answer the engine gives when the error escapes the handler. */
  constructor(message: string, status = 400) {
    super(message);
    this.name = "WebSocketHandshakeError";
    this.status = status;
  }
}

/** What a valid upgrade request offers. */
export interface HandshakeOffer {
  /** The Sec-WebSocket-Key, as sent. */
  key: string;
  /** The subprotocols offered, in order (empty when none). */
  protocols: string[];
  /** The raw Sec-WebSocket-Extensions value, or null. */
  extensions: string | null;
}

/** True when the comma-separated `value` holds `token` (case-insensitive). */
export function hasToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  for (const part of value.split(",")) {
    if (part.trim().toLowerCase() === token) return true;
  }
  return false;
}

const KEY_SHAPE = /^[A-Za-z0-9+/]{22}==$/;

/**
 * Checks `method`, `version` and the headers against RFC 6455 4.2.1 and
 * returns the offer, or throws {@link WebSocketHandshakeError}.
 */
export function checkHandshake(method: string, httpVersion: string, headers: Headers): HandshakeOffer {
  if (method !== "GET") throw new WebSocketHandshakeError(`a WebSocket upgrade must be a GET, not ${method}`);
  if (httpVersion === "1.0") throw new WebSocketHandshakeError("a WebSocket upgrade needs HTTP/1.1 or later");
  if (!hasToken(headers.get("upgrade"), "websocket")) {
    throw new WebSocketHandshakeError("the Upgrade header does not name websocket");
  }
  if (!hasToken(headers.get("connection"), "upgrade")) {
    throw new WebSocketHandshakeError("the Connection header does not hold the upgrade token");
  }
  const version = headers.get("sec-websocket-version");
  if (version === null || version.trim() !== "13") {
    throw new WebSocketHandshakeError(
      version === null ? "Sec-WebSocket-Version is missing" : "only Sec-WebSocket-Version 13 is supported",
      426,
    );
  }
  const key = headers.get("sec-websocket-key")?.trim() ?? "";
  // 16 bytes base64-encoded are 22 characters and "==", the last one holding 2 bits (A, Q, g or w).
  if (!KEY_SHAPE.test(key) || !"AQgw".includes(key[21])) {
    throw new WebSocketHandshakeError("Sec-WebSocket-Key is not 16 bytes in base64");
  }
  return {
    key,
    protocols: parseProtocols(headers.get("sec-websocket-protocol")),
    extensions: headers.get("sec-websocket-extensions"),
  };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The subprotocols of a Sec-WebSocket-Protocol value (repeated fields already joined with ", "). */
export function parseProtocols(value: string | null): string[] {
  if (value === null) return [];
  const out: string[] = [];
  for (const part of value.split(",")) {
    const name = part.trim();
    if (name !== "" && TOKEN.test(name)) out.push(name);
  }
  return out;
}

/** The Sec-WebSocket-Accept value for `key`: base64 of SHA-1 over key + GUID. */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}
