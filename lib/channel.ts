/**
 * One connection (waitress's HTTPChannel): bytes in -> parser -> request
 * queue -> one task at a time (task.ts); responses out, in order, through
 * the connection's Output (output.ts), which overflows to a temporary file
 * and pushes back on the application above `outbufHighWatermark`.
 *
 * @module
 */
import { InputBuffer } from "./buffers.ts";
import { Output } from "./output.ts";
import { type HttpError, RequestParser } from "./parser.ts";
import type { Connection, TlsInfo } from "./socket/types.ts";
import { answerRefusal, runTask, type Task, type TaskChannel, type TaskServer } from "./task.ts";
import type { RemoteAddr } from "./types.ts";
import { BodyClock, slowBodyError } from "./body_clock.ts";
import { isDisconnect, withUnmappedIPv4 } from "./peer.ts";
import { hasUpgradeHeader, HeldInput, switchProtocols } from "./websocket/engine.ts";
import type { WebSocketSession } from "./websocket/session.ts";
import type { PendingUpgrade } from "./websocket/upgrade.ts";

/** What a channel needs from its server: what its tasks need, and word of draining. */
export interface ChannelServer extends TaskServer {
  /** True once a graceful shutdown began: finish what was received, then close. */
  readonly draining: boolean;
  /** The channel closed; the server forgets it. */
  channelClosed(channel: Channel): void;
}

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

/** The state of one connection. */
export class Channel implements TaskChannel {
  readonly conn: Connection;
  readonly server: ChannelServer;
  /** Where responses go, in order. */
  readonly output: Output;
  readonly remote: RemoteAddr;
  /** Time (Date.now(): a plain builtin, where performance.now() is a runtime call on Deno) of the last byte read or written. */
  lastActivity: number;
  /** The connection is gone; nothing more is read or written. */
  closed = false;

  #parser: RequestParser | null = null;
  /** When the first byte of the request being received arrived. */
  #requestStarted = 0;
  /** The minimum body rate's clock for the body being received. */
  #bodyClock = new BodyClock();
  /** Requests received whole (or ended by a parse error), waiting for their turn. */
  #queue: RequestParser[] = [];
  #inFlight = false;
  #willClose = false;
  /**
   * A request failed to parse: nothing after it is parsed (CVE-2024-49768). It is answered in its
   * turn, after the requests before it, and then the connection closes (waitress does the same).
   */
  #parseStopped = false;
  #peerEnded = false;
  #readPaused = false;
  #continueSent = false;
  #closeRequested = false;
  /**
   * The task being served, told if the connection is lost under it: one task
   * at a time, so one field, set from `taskStarted` to `taskDone`.
   */
  #task: Task | null = null;
  #makeSink: (expectedLength: number) => InputBuffer;
  /** Bytes behind a request with an Upgrade header, until its handler has answered. */
  #held = new HeldInput();
  /** The request being served. */
  #serving: RequestParser | null = null;
  /** Set once the connection switched to WebSocket: bytes and events go to the session. */
  #session: WebSocketSession | null = null;

  constructor(conn: Connection, server: ChannelServer) {
    this.conn = conn;
    this.server = server;
    this.remote = withUnmappedIPv4(conn.remote);
    this.lastActivity = Date.now();
    const adj = server.adj;
    this.output = new Output(conn, adj.outbufOverflow, adj.outbufHighWatermark);
    const overflow = adj.inbufOverflow;
    this.#makeSink = (expectedLength) => new InputBuffer(overflow, expectedLength);
    conn.start({
      onData: (chunk) => this.#received(chunk),
      onEnd: () => this.#peerEnd(),
      onDrain: () => this.#drained(),
      onClose: (error) => this.#socketClosed(error),
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
      const blocked = !this.output.writable || this.output.congested;
      return (this.#peerEnded || blocked) && now - this.lastActivity > timeoutMs;
    }
    if (now - this.lastActivity > timeoutMs) return true;
    const parser = this.#parser;
    return parser !== null && !parser.headersComplete && now - this.#requestStarted > timeoutMs;
  }

  /** The connection's TLS (Arrival). */
  get tls(): TlsInfo | undefined {
    return this.conn.tls;
  }

  /** True between requests: nothing in flight or queued, and no part of a next request read. */
  get idle(): boolean {
    return !this.busy && this.#parser === null;
  }

  /** True while a request is being served or waits its turn. */
  get busy(): boolean {
    return this.#inFlight || this.#queue.length > 0;
  }

  // ---- reading -------------------------------------------------------------

  #received(chunk: Uint8Array): void {
    this.lastActivity = Date.now();
    if (this.#session !== null) {
      this.#session.onData(chunk);
      return;
    }
    // Once a close is decided, or a request failed to parse, later bytes are never parsed (CVE-2024-49768).
    if (this.#willClose || this.#parseStopped || this.closed) return;
    if (this.#held.holding) {
      this.#hold(chunk, 0);
      return;
    }
    const readAhead = this.busy;
    let offset = 0;
    const length = chunk.length;
    while (offset < length) {
      let parser = this.#parser;
      if (parser === null) {
        parser = this.#parser = new RequestParser(this.server.adj, this.#makeSink);
        this.#requestStarted = this.lastActivity;
      }
      const used = parser.received(chunk, offset);
      offset += used;
      if (parser.completed) {
        this.#parser = null;
        this.#continueSent = false;
        this.#bodyClock.reset();
        if (parser.error !== null) {
          this.#enqueue(parser);
          this.#parseStopped = true;
          break;
        }
        if (!parser.empty) this.#enqueue(parser);
        if (parser.head !== null && hasUpgradeHeader(parser.head.headers)) {
          // What follows may be WebSocket frames, not HTTP: it waits for the handler's answer.
          this.#held.holdAfter(parser);
          this.#hold(chunk, offset);
          break;
        }
      } else {
        this.#maybeSendContinue(parser);
        if (parser.headersComplete && this.#bodyTooSlow(this.lastActivity)) return;
        if (used === 0) break;
      }
    }
    // Pending output counts as "busy" too: a pipelining client that does not read its responses must
    // not get more of its requests read (waitress's readable() stops while output waits).
    this.#updateReading(readAhead || this.#parseStopped || this.output.buffered > 0);
    this.#serveNext();
  }

  #enqueue(parser: RequestParser): void {
    this.#queue.push(parser);
    this.output.holdSmallWrites = true;
  }

  /** Keeps `chunk[from..]` for after the upgrade decision, and reads no more until then. */
  #hold(chunk: Uint8Array, from: number): void {
    this.#held.add(chunk, from);
    this.#setReadPaused(true);
  }

  /**
   * The handler returned the upgrade response (TaskChannel): write the 101
   * and hand the connection to a WebSocket session, the bytes held behind
   * the request head first. The task then finishes, releasing its slot; the
   * connection still counts toward connectionLimit until the session ends.
   */
  switchToWebSocket(pending: PendingUpgrade, response: Response, ended: ((sentBytes: number) => void) | null): void {
    const leftover = this.#held.take();
    this.#dropQueue();
    const logError = (message: string) => this.server.logger.error(message);
    this.#session = switchProtocols(this, pending, response, this.server.adj.ident, leftover, logError);
    this.#session.ended = ended;
    this.#setReadPaused(false);
  }

  /** Sends `100 Continue` once the head is in, unless an earlier response is still due (kept in order). */
  #maybeSendContinue(parser: RequestParser): void {
    if (this.#continueSent || !parser.headersComplete || parser.head === null) return;
    if (!parser.head.expectContinue || this.#inFlight || this.#queue.length > 0) return;
    this.#continueSent = true;
    this.output.write(CONTINUE);
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
      if (this.server.adj.channelRequestLookahead > 0) this.#connectionLost(new Error("client closed the connection"));
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
    const stop = this.#willClose || this.#parseStopped || queued > this.server.adj.channelRequestLookahead ||
      this.output.buffered > 0;
    if (stop && mayPause) this.#setReadPaused(true);
    else if (!stop && this.#readPaused) {
      this.#bodyClock.reset(); // The time reading was paused does not count against a body.
      this.#setReadPaused(false);
    }
  }

  /** Pauses or resumes reading from the socket, once each way. */
  #setReadPaused(paused: boolean): void {
    if (this.#readPaused === paused || this.closed) return;
    this.#readPaused = paused;
    if (paused) this.conn.pauseReading();
    else this.conn.resumeReading();
  }

  /**
   * The minimum body rate (body_clock.ts): a body that falls behind gets a 408 and the connection
   * closes (returns true). The clock runs only while the body is this connection's business: with a
   * request in flight or queued, or output waiting, reading may be paused, so it restarts. Checked as
   * bytes arrive and by the sweep (`checkBodyRate`), for a client that stopped sending.
   */
  #bodyTooSlow(now: number): boolean {
    const { bodyTimeout, bodyMinRate } = this.server.adj;
    const parser = this.#parser;
    if (bodyTimeout === 0 || parser === null || parser.completed || parser.head === null) return false;
    const restart = this.busy || this.#readPaused || this.output.buffered > 0;
    if (!this.#bodyClock.behind(now, parser.body?.length ?? 0, bodyTimeout, bodyMinRate, restart)) return false;
    const error = slowBodyError(bodyTimeout, bodyMinRate, parser.head.version);
    answerRefusal(this.server, this, parser, error, this.#requestStarted);
    this.#discardPartial();
    this.closeWhenFlushed();
    return true;
  }

  /** The sweep's check of the minimum body rate, for a client that stopped sending mid-body. */
  checkBodyRate(now: number): void {
    if (!this.closed && !this.#willClose) this.#bodyTooSlow(now);
  }

  // ---- serving -------------------------------------------------------------

  #serveNext(): void {
    if (this.#inFlight || this.closed) return;
    // (Cheap tests first: while the socket takes writes and nothing waits here, nothing much is pending.)
    const output = this.output;
    if (this.#queue.length > 0 && (!output.writable || output.buffered > 0) && output.congested) {
      // Requests read ahead wait while their client is not taking its responses: otherwise many small
      // pipelined requests could pile up any amount of output in a temporary file.
      if (!this.#serveOnRoom) {
        this.#serveOnRoom = true;
        output.onRoom(this.#serveAfterRoom);
      }
      return;
    }
    const parser = this.#queue.shift();
    if (parser === undefined) {
      output.uncork();
      if (this.#parser !== null) this.#maybeSendContinue(this.#parser);
      if ((this.#willClose || this.#peerEnded || this.server.draining) && this.#parser === null) {
        this.closeWhenFlushed();
      }
      return;
    }
    output.holdSmallWrites = this.#queue.length > 0;
    this.#inFlight = true;
    this.#serving = parser;
    if (parser.error !== null) {
      this.#serveError(parser, parser.error);
      return;
    }
    runTask(this.server, this, parser);
  }

  #serveOnRoom = false;
  #serveAfterRoom = (): void => {
    this.#serveOnRoom = false;
    this.#serveNext();
  };

  #serveError(parser: RequestParser, error: HttpError): void {
    answerRefusal(this.server, this, parser, error, this.#requestStarted);
    this.#dropQueue();
    this.#willClose = true;
    this.taskDone(true);
  }

  /** Forgets requests received but never to be served, releasing their bodies (temporary files). */
  #dropQueue(): void {
    for (const parser of this.#queue) (parser.body as InputBuffer | null)?.dispose();
    this.#queue.length = 0;
    this.output.holdSmallWrites = false;
  }

  /** Forgets a partly received request, releasing its body. */
  #discardPartial(): void {
    (this.#parser?.body as InputBuffer | null | undefined)?.dispose();
    this.#parser = null;
  }

  /** The task's application call begins: it is told if the connection is lost before `taskDone`. */
  taskStarted(task: Task): void {
    this.#task = task;
  }

  /** Called by the task when its response is fully produced (or abandoned). */
  taskDone(close: boolean): void {
    this.#task = null;
    this.#inFlight = false;
    this.#bodyClock.reset(); // A body read ahead behind this request starts its clock now.
    if (this.#session !== null) return;
    const served = this.#serving;
    this.#serving = null;
    // Not upgraded: what was held behind it is HTTP after all (unless the connection closes anyway).
    const held = this.#held.releaseFor(served);
    if (held !== null && !close) {
      this.#received(held);
      return;
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
    return this.#willClose || this.server.draining || (this.#peerEnded && this.#queue.length === 0);
  }

  #drained(): void {
    this.lastActivity = Date.now();
    if (!this.output.drained()) return;
    this.#session?.onDrain();
    if (this.#closeRequested) {
      this.conn.close();
      return;
    }
    this.#updateReading();
  }

  // ---- closing -------------------------------------------------------------

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
    this.closeAfterFlush();
  }

  /** Closes once pending output is written, whatever the protocol (UpgradeHost). */
  closeAfterFlush(): void {
    if (this.closed) return;
    this.output.uncork();
    this.#willClose = true;
    this.#closeRequested = true;
    if (this.output.buffered === 0) this.conn.close();
    else this.#updateReading(true);
  }

  /** Closes now, dropping pending output. */
  destroy(): void {
    if (this.closed) return;
    this.conn.destroy();
    // Some runtimes only report the close once a write blocked on a stalled peer gives up; the
    // engine lets go now (slot, buffers, connection count), whatever the socket still does.
    this.#socketClosed();
  }

  /** Tells the task being served that its client is gone (once). */
  #connectionLost(reason: unknown): void {
    const task = this.#task;
    this.#task = null;
    task?.connectionLost(reason);
  }

  #socketClosed(error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.#discardPartial();
    this.#dropQueue();
    this.#session?.onClose(error);
    this.output.close();
    this.#connectionLost(error ?? new Error("connection closed"));
    this.output.wakeAll();
    this.#held.take();
    if (error !== undefined && this.server.adj.logSocketErrors && !isDisconnect(error)) {
      this.server.logger.warn(`Socket error from ${this.remote.hostname}:${this.remote.port}: ${String(error)}`);
    }
    this.server.channelClosed(this);
  }
}
