/**
 * One connection (waitress's HTTPChannel): bytes in -> parser -> request
 * queue -> one task at a time; responses out, in order, through an output
 * buffer that overflows to a temporary file and pushes back on the
 * application above `outbufHighWatermark`.
 *
 * @module
 */
import type { Adjustments, Logger } from "./adjustments.ts";
import { InputBuffer, OutputBuffer } from "./buffers.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { type HttpError, RequestParser } from "./parser.ts";
import type { Connection } from "./socket/types.ts";
import { setImmediate } from "node:timers";
import { runTask, writeErrorResponse } from "./task.ts";
import type { Handler, RemoteAddr } from "./types.ts";
import { hasUpgradeHeader, switchProtocols, type UpgradeHost } from "./websocket/engine.ts";
import type { WebSocketSession } from "./websocket/session.ts";
import type { PendingUpgrade } from "./websocket/upgrade.ts";

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

/** Who hears that a connection was lost under it (the task being served). */
export interface LossWatcher {
  connectionLost(reason: unknown): void;
}

/** What a channel needs from its server. */
export interface ChannelHost {
  readonly adj: Adjustments;
  readonly logger: Logger;
  readonly dispatcher: Dispatcher;
  /** The application as a function. */
  readonly handler: Handler;
  /** True once a graceful shutdown began: finish what was received, then close. */
  readonly draining: boolean;
  /** The channel closed; the server forgets it. */
  channelClosed(channel: Channel): void;
}

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
const WRITE_SLICE = 256 * 1024;
/** Most bytes held back while pipelined responses are batched into one write. */
const CORK_LIMIT = 64 * 1024;

/** The state of one connection. */
export class Channel {
  readonly conn: Connection;
  readonly host: ChannelHost;
  readonly remote: RemoteAddr;
  /** Port of the listener that accepted this connection (waitress's SERVER_PORT). */
  readonly serverPort: number;
  /** Time (Date.now(): a plain builtin, where performance.now() is a runtime call on Deno) of the last byte read or written. */
  lastActivity: number;
  /** The connection is gone; nothing more is read or written. */
  closed = false;

  #parser: RequestParser | null = null;
  /** When the first byte of the request being received arrived. */
  #requestStarted = 0;
  /** Requests received whole (or ended by a parse error), waiting for their turn. */
  #queue: RequestParser[] = [];
  #inFlight = false;
  #willClose = false;
  #peerEnded = false;
  #readPaused = false;
  #continueSent = false;
  #out: OutputBuffer;
  #writable = true;
  #drainWaiters: Array<() => void> = [];
  #flushWaiters: Array<() => void> = [];
  /** The task being served, told if the connection is lost under it (one task at a time). */
  #lossWatcher: LossWatcher | null = null;
  #makeSink: (expectedLength: number) => InputBuffer;
  /** A request with an Upgrade header: bytes after it wait in #held until its handler has answered. */
  #holdAfter: RequestParser | null = null;
  #held: Uint8Array[] = [];
  /** The request being served. */
  #serving: RequestParser | null = null;
  /** Set once the connection switched to WebSocket: bytes and events go to the session. */
  #session: WebSocketSession | null = null;

  constructor(conn: Connection, host: ChannelHost, serverPort: number) {
    this.conn = conn;
    this.host = host;
    this.serverPort = serverPort;
    this.remote = withUnmappedIPv4(conn.remote);
    this.lastActivity = Date.now();
    this.#out = new OutputBuffer(host.adj.outbufOverflow);
    const overflow = host.adj.inbufOverflow;
    this.#makeSink = (expectedLength) => new InputBuffer(overflow, expectedLength);
    conn.start({
      onData: (chunk) => this.#received(chunk),
      onEnd: () => this.#peerEnd(),
      onDrain: () => this.#drained(),
      onClose: (error) => this.#connectionClosed(error),
    });
  }

  /**
   * True when the sweep should close this connection: idle (no request in
   * flight) for channelTimeout, or, against slowloris clients that trickle
   * bytes to look active, a request head still incomplete channelTimeout
   * after its first byte.
   */
  expired(now: number, timeoutMs: number): boolean {
    // A WebSocket keeps itself alive or closes through its own idleTimeout pings.
    if (this.#session !== null) return false;
    if (this.busy) {
      // Busy, yet nothing read or written for channelTimeout: a half-closed client whose request
      // never finishes, or a reader that stopped reading while its response waits for room. Neither
      // may hold a connection and an application slot forever.
      const blocked = !this.#writable || this.congested;
      return (this.#peerEnded || blocked) && now - this.lastActivity > timeoutMs;
    }
    if (now - this.lastActivity > timeoutMs) return true;
    const parser = this.#parser;
    return parser !== null && !parser.headersComplete && now - this.#requestStarted > timeoutMs;
  }

  /** True while a request is being served or waits its turn. */
  get busy(): boolean {
    return this.#inFlight || this.#queue.length > 0;
  }

  /** Response bytes not yet handed to the OS. */
  get pending(): number {
    return this.#corkBytes + this.#out.length + this.conn.bufferedAmount;
  }

  // ---- reading -------------------------------------------------------------

  #received(chunk: Uint8Array): void {
    this.lastActivity = Date.now();
    if (this.#session !== null) {
      this.#session.onData(chunk);
      return;
    }
    // Once a close is decided, later bytes are never parsed (CVE-2024-49768).
    if (this.#willClose || this.closed) return;
    if (this.#holdAfter !== null) {
      this.#hold(chunk, 0);
      return;
    }
    const readAhead = this.busy;
    let offset = 0;
    const length = chunk.length;
    while (offset < length) {
      let parser = this.#parser;
      if (parser === null) {
        parser = this.#parser = new RequestParser(this.host.adj, this.#makeSink);
        this.#requestStarted = this.lastActivity;
      }
      const used = parser.received(chunk, offset);
      offset += used;
      if (parser.completed) {
        this.#parser = null;
        this.#continueSent = false;
        if (parser.error !== null) {
          this.#queue.push(parser);
          this.#willClose = true;
          break;
        }
        if (!parser.empty) this.#queue.push(parser);
        if (parser.head !== null && hasUpgradeHeader(parser.head.headers)) {
          // What follows may be WebSocket frames, not HTTP: it waits for the handler's answer.
          this.#holdAfter = parser;
          this.#hold(chunk, offset);
          break;
        }
      } else {
        this.#maybeSendContinue(parser);
        if (used === 0) break;
      }
    }
    // Pending output counts as "busy" too: a pipelining client that does not read its responses must
    // not get more of its requests read (waitress's readable() stops while output waits).
    this.#updateReading(readAhead || this.#willClose || this.#out.length > 0);
    this.#serveNext();
  }

  /** Keeps `chunk[from..]` for after the upgrade decision, and reads no more until then. */
  #hold(chunk: Uint8Array, from: number): void {
    if (from < chunk.length) this.#held.push(chunk.slice(from));
    if (!this.#readPaused) {
      this.#readPaused = true;
      this.conn.pauseReading();
    }
  }

  /** The held bytes as one array (null when none), forgetting them. */
  #takeHeld(): Uint8Array | null {
    const held = this.#held;
    this.#held = [];
    this.#holdAfter = null;
    if (held.length === 0) return null;
    if (held.length === 1) return held[0];
    const out = new Uint8Array(held.reduce((n, h) => n + h.length, 0));
    let at = 0;
    for (const h of held) {
      out.set(h, at);
      at += h.length;
    }
    return out;
  }

  /**
   * The handler returned the upgrade response: write the 101 and hand the
   * connection to a WebSocket session (the bytes held behind the request
   * head first). The task then finishes, releasing its slot; the connection
   * still counts toward connectionLimit until the session ends.
   */
  switchToWebSocket(pending: PendingUpgrade, response: Response): void {
    const leftover = this.#takeHeld();
    this.#dropQueue();
    const logger = this.host.logger;
    const logError = (message: string) => logger.error(message);
    this.#session = switchProtocols(this.#upgradeHost(), pending, response, this.host.adj.ident, leftover, logError);
    if (this.#readPaused && !this.closed) {
      this.#readPaused = false;
      this.conn.resumeReading();
    }
  }

  #upgradeHost(): UpgradeHost {
    return {
      write: (bytes) => this.write(bytes),
      writeParts: (parts) => this.writeParts(parts),
      pending: () => this.pending,
      gathersWrites: this.conn.gathersWrites,
      pauseReading: () => this.conn.pauseReading(),
      resumeReading: () => this.conn.resumeReading(),
      closeAfterFlush: () => this.#closeAfterFlush(),
      destroy: () => this.destroy(),
    };
  }

  /** Sends `100 Continue` once the head is in, unless an earlier response is still due (kept in order). */
  #maybeSendContinue(parser: RequestParser): void {
    if (this.#continueSent || !parser.headersComplete || parser.head === null) return;
    if (!parser.head.expectContinue || this.#inFlight || this.#queue.length > 0) return;
    this.#continueSent = true;
    this.write(CONTINUE);
  }

  #peerEnd(): void {
    this.#peerEnded = true;
    if (this.#session !== null) {
      this.#session.onEnd();
      return;
    }
    // A partly received request can never complete now.
    this.#discardPartial();
    if (this.busy) {
      // EOF while requests are served. With read-ahead (channelRequestLookahead > 0) that is
      // waitress's client_disconnected: the request in flight sees request.signal abort and gives
      // back its slot. Without it, as in waitress, EOF is a half-close: the responses to what was
      // received are still written, then the connection closes.
      if (this.host.adj.channelRequestLookahead > 0) this.#notifyClose(new Error("client closed the connection"));
      return;
    }
    this.closeWhenFlushed();
  }

  /**
   * Reading stops while more requests are queued than `channelRequestLookahead`
   * allows, or while response bytes are pending (waitress's readable()).
   *
   * Pausing is lazy (`mayPause` only when bytes arrived while a request was
   * already being served): pausing and resuming a socket costs system calls,
   * and a client that waits for each response never needs it. So at most one
   * read's worth of input beyond the lookahead is buffered.
   */
  #updateReading(mayPause = false): void {
    if (this.closed) return;
    const queued = this.#queue.length + (this.#inFlight ? 1 : 0);
    const stop = this.#willClose || queued > this.host.adj.channelRequestLookahead || this.#out.length > 0;
    if (stop && !this.#readPaused && mayPause) {
      this.#readPaused = true;
      this.conn.pauseReading();
    } else if (!stop && this.#readPaused) {
      this.#readPaused = false;
      this.conn.resumeReading();
    }
  }

  // ---- serving -------------------------------------------------------------

  #serveNext(): void {
    if (this.#inFlight || this.closed) return;
    // (Cheap tests first: while the socket takes writes and nothing waits here, nothing much is pending.)
    if (this.#queue.length > 0 && (!this.#writable || this.#out.length > 0) && this.congested) {
      // Requests read ahead wait while their client is not taking its responses: otherwise many small
      // pipelined requests could pile up any amount of output in a temporary file.
      if (!this.#serveOnRoom) {
        this.#serveOnRoom = true;
        this.#drainWaiters.push(this.#serveAfterRoom);
      }
      return;
    }
    const parser = this.#queue.shift();
    if (parser === undefined) {
      this.uncork();
      if (this.#parser !== null) this.#maybeSendContinue(this.#parser);
      if ((this.#willClose || this.#peerEnded || this.host.draining) && this.#parser === null) {
        this.closeWhenFlushed();
      }
      return;
    }
    this.#inFlight = true;
    this.#serving = parser;
    if (parser.error !== null) {
      this.#serveError(parser.error);
      return;
    }
    runTask(this, parser);
  }

  #serveOnRoom = false;
  #serveAfterRoom = (): void => {
    this.#serveOnRoom = false;
    this.#serveNext();
  };

  #serveError(error: HttpError): void {
    writeErrorResponse(this, error.status, error.reason, error.detail, error.version);
    this.#dropQueue();
    this.#willClose = true;
    this.taskDone(true);
  }

  /** Forgets requests received but never to be served, releasing their bodies (temporary files). */
  #dropQueue(): void {
    for (const parser of this.#queue) (parser.body as InputBuffer | null)?.dispose();
    this.#queue.length = 0;
  }

  /** Forgets a partly received request, releasing its body. */
  #discardPartial(): void {
    (this.#parser?.body as InputBuffer | null | undefined)?.dispose();
    this.#parser = null;
  }

  /** Called by the task when its response is fully produced (or abandoned). */
  taskDone(close: boolean): void {
    this.#inFlight = false;
    if (this.#session !== null) return;
    const served = this.#serving;
    this.#serving = null;
    if (served !== null && served === this.#holdAfter && !close) {
      // Not upgraded: what was held is HTTP after all.
      const held = this.#takeHeld();
      if (held !== null) {
        this.#received(held);
        return;
      }
    } else if (served !== null && served === this.#holdAfter) {
      this.#takeHeld();
    }
    if (close) {
      this.#willClose = true;
      this.#dropQueue();
    }
    if (this.closed) return;
    if (this.#willClose) {
      this.closeWhenFlushed();
      return;
    }
    this.#updateReading();
    this.#serveNext();
  }

  /** True when the response being produced must announce `Connection: close`. */
  get closeAfterResponse(): boolean {
    return this.#willClose || this.host.draining || (this.#peerEnded && this.#queue.length === 0);
  }

  // ---- writing -------------------------------------------------------------

  /**
   * Queues response bytes; they are sent in order. The caller must not change
   * them afterwards. While more pipelined requests wait their turn, small
   * responses are held (corked) and sent together once the pipeline is
   * answered or the event loop turns, so 16 pipelined requests cost one write,
   * not 16.
   */
  write(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    if (this.#queue.length > 0 && this.#corkBytes + bytes.length <= CORK_LIMIT) {
      this.#cork.push(bytes);
      this.#corkBytes += bytes.length;
      if (!this.#uncorkScheduled) {
        this.#uncorkScheduled = true;
        // After the promise chains of the pipelined responses have run, not later.
        setImmediate(this.#uncorkSoon);
      }
      return;
    }
    this.uncork();
    this.#send(bytes);
  }

  /**
   * Queues pieces to go out together in order (a body chunk and its framing).
   * When nothing is waiting ahead of them they go to the socket as one gathered
   * write; otherwise they queue like separate `write` calls.
   */
  writeParts(parts: readonly Uint8Array[]): void {
    if (this.closed) return;
    if (!this.#writable || this.#out.length > 0 || this.#corkBytes > 0 || this.#queue.length > 0) {
      for (let i = 0; i < parts.length; i++) this.write(parts[i]);
      return;
    }
    this.#writable = this.conn.writev(parts);
    if (this.#writable && this.#flushWaiters.length > 0) this.#wakeFlushWaiters();
  }

  #cork: Uint8Array[] = [];
  #corkBytes = 0;
  #uncorkScheduled = false;
  #uncorkSoon = (): void => {
    this.#uncorkScheduled = false;
    this.uncork();
  };

  /** Sends held (corked) bytes now, as one write. */
  uncork(): void {
    if (this.#corkBytes === 0 || this.closed) return;
    const cork = this.#cork;
    const out = new Uint8Array(this.#corkBytes);
    let offset = 0;
    for (const c of cork) {
      out.set(c, offset);
      offset += c.length;
    }
    this.#cork = [];
    this.#corkBytes = 0;
    this.#send(out);
  }

  #send(bytes: Uint8Array): void {
    if (this.#writable && this.#out.length === 0) {
      this.#writable = this.conn.write(bytes);
      if (this.#writable && this.#flushWaiters.length > 0) this.#wakeFlushWaiters();
      return;
    }
    this.#out.append(bytes);
    if (this.#writable) this.#flush();
  }

  #flush(): void {
    while (this.#writable && !this.closed) {
      const chunk = this.#out.take(WRITE_SLICE);
      if (chunk === null) break;
      this.#writable = this.conn.write(chunk);
    }
  }

  #drained(): void {
    this.lastActivity = Date.now();
    this.#writable = true;
    this.#flush();
    if (!this.#writable) return;
    this.#wakeDrainWaiters();
    if (this.#out.length === 0) {
      this.#wakeFlushWaiters();
      this.#session?.onDrain();
      if (this.#closeRequested) {
        this.conn.close();
        return;
      }
      this.#updateReading();
    }
  }

  /** True while the application should wait before producing more (pending above the high watermark). */
  get congested(): boolean {
    return this.pending > this.host.adj.outbufHighWatermark;
  }

  /** Resolves once pending output is back under the high watermark, or the connection closed. */
  waitForRoom(): Promise<void> {
    if (!this.congested || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Calls `done` once everything written so far has been handed to the OS (or the connection closed). */
  whenFlushed(done: () => void): void {
    // "Flushed" means handed to the socket adapter, which owns the rest of the delivery.
    if (this.closed || (this.#writable && this.#out.length === 0 && this.#corkBytes === 0)) done();
    else this.#flushWaiters.push(done);
  }

  #wakeDrainWaiters(): void {
    if (this.#drainWaiters.length === 0 || this.congested) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  #wakeFlushWaiters(): void {
    if (this.#flushWaiters.length === 0) return;
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of waiters) w();
  }

  // ---- closing -------------------------------------------------------------

  #closeRequested = false;

  /**
   * Closes once pending output is written (waitress's close_when_flushed).
   * A WebSocket closes with 1001 and its closing handshake instead, cut
   * after a bounded wait by the session.
   */
  closeWhenFlushed(): void {
    if (this.#session !== null) {
      this.#session.shutdown();
      return;
    }
    this.#closeAfterFlush();
  }

  #closeAfterFlush(): void {
    if (this.closed) return;
    this.uncork();
    this.#willClose = true;
    this.#closeRequested = true;
    if (this.#out.length === 0) this.conn.close();
    else this.#updateReading(true);
  }

  /** Closes now, dropping pending output. */
  destroy(): void {
    if (this.closed) return;
    this.conn.destroy();
    // Some runtimes only report the close once a write blocked on a stalled peer gives up; the
    // engine lets go now (slot, buffers, connection count), whatever the socket still does.
    this.#connectionClosed();
  }

  /**
   * Sets who is told when the connection is lost before it closed cleanly:
   * the task being served. One slot, not a list of callbacks: a channel
   * serves one task at a time, and this runs per request.
   */
  watchLoss(watcher: LossWatcher): void {
    this.#lossWatcher = watcher;
  }

  /** Stops telling `watcher` (its task finished). */
  unwatchLoss(watcher: LossWatcher): void {
    if (this.#lossWatcher === watcher) this.#lossWatcher = null;
  }

  #notifyClose(reason: unknown): void {
    const watcher = this.#lossWatcher;
    this.#lossWatcher = null;
    watcher?.connectionLost(reason);
  }

  #connectionClosed(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.#discardPartial();
    this.#dropQueue();
    this.#out.dispose();
    this.#cork = [];
    this.#corkBytes = 0;
    this.#notifyClose(error ?? new Error("connection closed"));
    this.#wakeAll();
    this.#held = [];
    this.#session?.onClose(error);
    if (error !== undefined && this.host.adj.logSocketErrors && !isDisconnect(error)) {
      this.host.logger.warn(`Socket error from ${this.remote.hostname}:${this.remote.port}: ${String(error)}`);
    }
    this.host.channelClosed(this);
  }

  #wakeAll(): void {
    const drains = this.#drainWaiters;
    const flushes = this.#flushWaiters;
    this.#drainWaiters = [];
    this.#flushWaiters = [];
    for (const w of drains) w();
    for (const w of flushes) w();
  }
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

function isDisconnect(error: unknown): boolean {
  if (error === null || typeof error !== "object") return false;
  const e = error as { code?: unknown; name?: unknown };
  return DISCONNECT_CODES.has(String(e.code)) || DISCONNECT_CODES.has(String(e.name));
}
