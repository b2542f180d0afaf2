/**
 * The seam between the HTTP engine and WebSocket: which requests may become
 * upgrades (their later bytes are held back from the HTTP parser), the 101
 * the engine writes, the answer to a bad handshake, and the transport that
 * carries the session's frames through the connection's own output buffer.
 *
 * It knows the channel only through {@link UpgradeHost}, so that the
 * engine imports WebSocket and not the other way round.
 *
 * @module
 */
import { concatBytes, currentHttpDate, latin1Bytes } from "../utilities.ts";
import { WebSocketHandshakeError } from "./handshake.ts";
import type { Transport, WebSocketSession } from "./session.ts";
import { type PendingUpgrade, startSession, upgradeHeaderLines } from "./upgrade.ts";

/** The connection's output buffer, as the session uses it (the channel's Output). */
export interface HostOutput {
  /** Queue bytes in order. */
  write(bytes: Uint8Array): void;
  /** Queue pieces that go out together. */
  writeParts(parts: readonly Uint8Array[]): void;
  /** Bytes queued and not yet handed to the operating system. */
  readonly pending: number;
  /** True when writeParts sends pieces without copying them. */
  readonly gathersWrites: boolean;
}

/** What a connection offers the session once it has switched protocols. */
export interface UpgradeHost {
  readonly output: HostOutput;
  /** Reading, paused while inflation falls behind. */
  readonly conn: { pauseReading(): void; resumeReading(): void };
  /** Close once everything queued is written. */
  closeAfterFlush(): void;
  /** Close now. */
  destroy(): void;
}

/**
 * The bytes that arrive behind a request with an Upgrade header, held back
 * from the HTTP parser until its handler has answered: they are WebSocket
 * frames if it upgrades, the next HTTP requests if it does not.
 */
export class HeldInput {
  #after: object | null = null;
  #chunks: Uint8Array[] = [];

  /** True while bytes are being held. */
  get holding(): boolean {
    return this.#after !== null;
  }

  /** Starts holding what comes after `request` (its parser, for the channel). */
  holdAfter(request: object): void {
    this.#after = request;
  }

  /** What was held behind `request` (null when the holding did not begin with it, or nothing came); holding ends. */
  releaseFor(request: object | null): Uint8Array | null {
    return request !== null && request === this.#after ? this.take() : null;
  }

  /** Keeps a copy of `chunk[from..]` (the adapter may reuse its memory; a Node Buffer's slice() would not copy). */
  add(chunk: Uint8Array, from: number): void {
    if (from < chunk.length) this.#chunks.push(new Uint8Array(chunk.subarray(from)));
  }

  /** The held bytes as one array (null when none); holding ends. */
  take(): Uint8Array | null {
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#after = null;
    return chunks.length === 0 ? null : concatBytes(chunks, chunks.reduce((n, c) => n + c.length, 0));
  }
}

/** True when the request head carries an Upgrade header: its later bytes must wait for the handler's answer. */
export function hasUpgradeHeader(pairs: readonly string[]): boolean {
  for (let i = 0; i < pairs.length; i += 2) {
    if (pairs[i] === "upgrade") return true;
  }
  return false;
}

/** The status, reason and extra header lines for a bad handshake that escaped the handler; null for other errors. */
export function handshakeAnswer(error: unknown): { status: number; reason: string; headers: string } | null {
  if (!(error instanceof WebSocketHandshakeError)) return null;
  if (error.status === 426) {
    return { status: 426, reason: "Upgrade Required", headers: "Sec-WebSocket-Version: 13\r\n" };
  }
  return { status: 400, reason: "Bad Request", headers: "" };
}

class HostTransport implements Transport {
  readonly #host: UpgradeHost;

  constructor(host: UpgradeHost) {
    this.#host = host;
  }

  get gathersWrites(): boolean {
    return this.#host.output.gathersWrites;
  }

  get bufferedAmount(): number {
    return this.#host.output.pending;
  }

  write(data: Uint8Array): boolean {
    this.#host.output.write(data);
    return true;
  }

  writev(parts: readonly Uint8Array[]): boolean {
    this.#host.output.writeParts(parts);
    return true;
  }

  pauseReading(): void {
    this.#host.conn.pauseReading();
  }

  resumeReading(): void {
    this.#host.conn.resumeReading();
  }

  close(): void {
    this.#host.closeAfterFlush();
  }

  destroy(): void {
    this.#host.destroy();
  }
}

/**
 * Writes the 101 (the app's own headers, the handshake's, Date and Server)
 * and starts the session, fed first with `leftover`, the bytes that came
 * behind the request head; `logError` hears exceptions from the app's
 * event listeners.
 */
export function switchProtocols(
  host: UpgradeHost,
  pending: PendingUpgrade,
  response: Response,
  ident: string,
  leftover: Uint8Array | null,
  logError: (message: string) => void,
): WebSocketSession {
  let head = `HTTP/1.1 101 Switching Protocols\r\n${upgradeHeaderLines(pending, response)}`;
  if (!response.headers.has("date")) head += `date: ${currentHttpDate()}\r\n`;
  if (ident !== "" && !response.headers.has("server")) head += `server: ${ident}\r\n`;
  host.output.write(latin1Bytes(head + "\r\n"));
  return startSession(pending, new HostTransport(host), leftover, logError);
}
