/**
 * `upgradeWebSocket(request, options)`: the app's side of the upgrade, in
 * the shape of `Deno.upgradeWebSocket`, plus the two calls the engine makes
 * around the handler: {@link offerUpgrade} before (only requests our engine
 * made can be upgraded) and {@link takeUpgrade} after (did the handler
 * return the upgrade response?).
 *
 * Node refuses `new Response(null, { status: 101 })`, so the response is an
 * {@link UpgradeResponse}: an ordinary Response that the engine recognises
 * (by identity, or by its accept key once a middleware rebuilt it) and
 * answers with the real 101.
 *
 * @module
 */
import { acceptKey, checkHandshake, WebSocketHandshakeError } from "./handshake.ts";
import { type DeflateParams, negotiateDeflate } from "./extensions.ts";
import { type Transport, WebSocketSession } from "./session.ts";
import { ServerWebSocket, socketControl } from "./socket.ts";

export { WebSocketHandshakeError } from "./handshake.ts";

/** Options of {@link upgradeWebSocket}. */
export interface UpgradeWebSocketOptions {
  /** The subprotocol to speak; must be one the client offered. Default: none. */
  protocol?: string;
  /** Seconds without traffic before a ping; as long again without an answer closes (1001). 0 disables. Default 30. */
  idleTimeout?: number;
  /** Largest message accepted, in bytes (after inflation); above it the connection closes with 1009. Default 16 MiB. */
  maxPayload?: number;
  /** Pending outgoing bytes above which the connection closes with 1008. Default 16 MiB. */
  backpressureLimit?: number;
  /** Offer permessage-deflate (RFC 7692) when the client asks for it. Default false. */
  compression?: boolean;
}

/** What {@link upgradeWebSocket} returns. */
export interface WebSocketUpgrade {
  /** The server's end of the WebSocket; it opens once the engine has sent the 101. */
  socket: ServerWebSocket;
  /** Return this from the handler (its headers, except hop-by-hop ones, go out in the 101). */
  response: Response;
}

/** The options with their defaults applied. */
export interface ResolvedUpgradeOptions {
  idleTimeout: number;
  maxPayload: number;
  backpressureLimit: number;
}

/** An upgrade accepted by {@link upgradeWebSocket}, waiting for the handler to return its response. */
export interface PendingUpgrade {
  socket: ServerWebSocket;
  response: UpgradeResponse;
  /** The Sec-WebSocket-Accept value. */
  accept: string;
  /** The chosen subprotocol, "" for none. */
  protocol: string;
  /** permessage-deflate as agreed, or null. */
  deflate: DeflateParams | null;
  options: ResolvedUpgradeOptions;
}

/**
 * The upgrade response: an ordinary `Response` (status 200, no body) with
 * the handshake headers. Its status is not 101 because Node cannot build a
 * Response with a 1xx status, and middleware that rebuilds responses
 * (`new Response(body, response)`, as Hono does once headers were set
 * earlier) must keep working on every runtime; the engine writes the 101.
 */
export class UpgradeResponse extends Response {}

interface Ticket {
  httpVersion: string;
  pending: PendingUpgrade | null;
}

const tickets = new WeakMap<object, Ticket>();

/** The engine marks each request it made that carries an Upgrade header, with its HTTP version. */
export function offerUpgrade(request: object, httpVersion: string): void {
  tickets.set(request, { httpVersion, pending: null });
}

const MIB = 1024 * 1024;

function number(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0)) throw new TypeError(`${name} must be a number >= 0`);
  return value;
}

function socketUrl(url: string): string {
  if (url.startsWith("https:")) return "wss:" + url.slice(6);
  if (url.startsWith("http:")) return "ws:" + url.slice(5);
  return url;
}

/**
 * Accepts a WebSocket upgrade: returns the socket and the response for the
 * handler to return. Throws {@link WebSocketHandshakeError} (a TypeError)
 * when the request is not a valid upgrade (the engine answers it 400, or
 * 426 for the version), and a TypeError when our server did not make the
 * request (a clone or a wrapped request cannot be upgraded) or the options
 * are wrong.
 */
export function upgradeWebSocket(request: Request, options: UpgradeWebSocketOptions = {}): WebSocketUpgrade {
  const ticket = tickets.get(request);
  if (ticket === undefined) {
    if (request === null || typeof request !== "object" || !("headers" in request)) {
      throw new TypeError("upgradeWebSocket needs the request the handler was given");
    }
    if (request.headers.get("upgrade") === null) {
      throw new WebSocketHandshakeError("not a WebSocket upgrade: the request has no Upgrade header");
    }
    throw new TypeError(
      "upgradeWebSocket can only upgrade the request object waitress passed to the handler " +
        "(a clone, `new Request(request)` or a framework's wrapper has no connection behind it: pass the original)",
    );
  }
  if (ticket.pending !== null) throw new TypeError("this request has already been upgraded");
  const offer = checkHandshake(request.method, ticket.httpVersion, request.headers);
  const protocol = options.protocol ?? "";
  if (protocol !== "" && !offer.protocols.includes(protocol)) {
    throw new TypeError(
      `protocol "${protocol}" was not offered by the client (offered: ${offer.protocols.join(", ") || "none"})`,
    );
  }
  const resolved: ResolvedUpgradeOptions = {
    idleTimeout: number(options.idleTimeout, 30, "idleTimeout"),
    maxPayload: number(options.maxPayload, 16 * MIB, "maxPayload"),
    backpressureLimit: number(options.backpressureLimit, 16 * MIB, "backpressureLimit"),
  };
  const deflate = options.compression ? negotiateDeflate(offer.extensions) : null;
  const accept = acceptKey(offer.key);
  const headers = new Headers({ upgrade: "websocket", connection: "Upgrade", "sec-websocket-accept": accept });
  if (protocol !== "") headers.set("sec-websocket-protocol", protocol);
  if (deflate) headers.set("sec-websocket-extensions", deflate.response);
  const socket = new ServerWebSocket(socketUrl(request.url), protocol);
  const response = new UpgradeResponse(null, { status: 200, headers });
  ticket.pending = { socket, response, accept, protocol, deflate, options: resolved };
  return { socket, response };
}

/**
 * After the handler: the upgrade to carry out when it returned the upgrade
 * response, else null. An upgrade the handler accepted but did not return
 * is abandoned: its socket reports an error and closes (1006).
 */
export function takeUpgrade(request: object, response: unknown): PendingUpgrade | null {
  const ticket = tickets.get(request);
  const pending = ticket?.pending ?? null;
  if (pending === null) return null;
  if (pending.response === response) return pending;
  // A middleware that rebuilt the response (`new Response(body, response)`, as Hono does when headers were set
  // earlier) kept its headers, the accept key among them: still this upgrade.
  if (response instanceof Response && response.headers.get("sec-websocket-accept") === pending.accept) return pending;
  abandonUpgrade(pending, "the handler did not return the upgrade response");
  return null;
}

/** The socket of an upgrade that will not happen reports an error and closes (1006). */
export function abandonUpgrade(pending: PendingUpgrade, why: string): void {
  socketControl.error(pending.socket, why);
  socketControl.closed(pending.socket, 1006, "", false);
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "content-length",
  "sec-websocket-accept",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
]);

/**
 * The 101's head lines (without the status line): the app's own headers
 * minus hop-by-hop and handshake ones, then the handshake's, naming exactly
 * the subprotocol and extensions agreed.
 */
export function upgradeHeaderLines(pending: PendingUpgrade, response: Response): string {
  let lines = "";
  for (const [name, value] of response.headers) {
    if (!HOP_BY_HOP.has(name)) lines += `${name}: ${value}\r\n`;
  }
  lines += `upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${pending.accept}\r\n`;
  if (pending.protocol !== "") lines += `sec-websocket-protocol: ${pending.protocol}\r\n`;
  if (pending.deflate) lines += `sec-websocket-extensions: ${pending.deflate.response}\r\n`;
  return lines;
}

/** Most frames one received message may have (as `ws`): above it, 1008. */
export const MAX_FRAGMENTS = 16384;
/** How long a closing handshake we started may wait for the peer's Close. */
export const CLOSE_TIMEOUT_MS = 5000;

/**
 * After the engine queued the 101: the session that runs the socket over
 * `transport`, fed first with `leftover` (bytes read behind the request head).
 */
export function startSession(
  pending: PendingUpgrade,
  transport: Transport,
  leftover: Uint8Array | null,
  logError: (message: string) => void,
): WebSocketSession {
  const session = new WebSocketSession(transport, pending.socket, {
    ...pending.options,
    maxFragments: MAX_FRAGMENTS,
    closeTimeout: CLOSE_TIMEOUT_MS,
    deflate: pending.deflate,
  }, logError);
  session.open(leftover);
  return session;
}
