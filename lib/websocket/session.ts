/**
 * One upgraded connection: the frame parser on the way in, frames on the
 * way out, pings answered, the closing handshake, the idle ping and the
 * limits. The engine hands it the raw connection after the 101 and routes
 * the connection's callbacks here; the socket sees only {@link SocketDriver}.
 *
 * @module
 */
import { MessageDeflater, MessageInflater, TOO_BIG } from "./deflate.ts";
import type { DeflateParams } from "./extensions.ts";
import { CLOSE, closePayload, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT } from "./frame.ts";
import { FrameParser, type FrameSink, type ProtocolError } from "./frame_parser.ts";
import { Outbox, type Transport } from "./outbox.ts";
import { type ServerWebSocket, socketControl, type SocketDriver } from "./socket.ts";
import { isValidUtf8 } from "./utf8.ts";

export type { Transport } from "./outbox.ts";

/** The session's limits and timers. */
export interface SessionOptions {
  /** Largest received message in bytes (after inflation): above it, close 1009. */
  maxPayload: number;
  /** Most frames in one received message: above it, close 1008. */
  maxFragments: number;
  /** Seconds without received traffic before a ping; as long again without an answer closes. 0: never. */
  idleTimeout: number;
  /** Queued outgoing bytes above which the connection closes with 1008. */
  backpressureLimit: number;
  /** Milliseconds to wait for the peer's Close before cutting the connection. */
  closeTimeout: number;
  /** permessage-deflate as agreed, or null. */
  deflate: DeflateParams | null;
}

/** Compressed messages waiting to be inflated before reading pauses. */
const INFLATE_BACKLOG = 8;

type Incoming = { text: boolean; data: Uint8Array<ArrayBuffer> | Promise<Uint8Array<ArrayBuffer> | typeof TOO_BIG> };

/** Drives one WebSocket over one connection. */
export class WebSocketSession implements SocketDriver, FrameSink {
  readonly #transport: Transport;
  readonly #socket: ServerWebSocket;
  readonly #options: SessionOptions;
  readonly #parser: FrameParser;
  readonly #inflater: MessageInflater | null;
  readonly #deflater: MessageDeflater | null;
  readonly #outbox: Outbox;
  readonly #logError: (message: string) => void;
  /** Received messages waiting for inflation, in order. */
  #inQueue: Incoming[] = [];
  #inBusy = false;
  /** close() or shutdown() asked for a Close: sent once the messages queued before it are out. */
  #closeRequested = false;
  #closeSent = false;
  #closeReceived: [number, string] | null = null;
  #failure: [number, string] | null = null;
  #finished = false;
  #closeTimer: ReturnType<typeof setTimeout> | null = null;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #sawTraffic = false;
  #pingOutstanding = false;
  /**
   * Told, once the connection is gone, how many frame bytes reached the operating system (the access
   * log's `b`); the channel closes the session before its output, so bytes dropped unsent do not count.
   */
  ended: ((sentBytes: number) => void) | null = null;

  /** `logError` receives exceptions from the application's event listeners (the server's logger). */
  constructor(
    transport: Transport,
    socket: ServerWebSocket,
    options: SessionOptions,
    logError: (message: string) => void,
  ) {
    this.#transport = transport;
    this.#socket = socket;
    this.#options = options;
    this.#logError = logError;
    const deflate = options.deflate;
    this.#parser = new FrameParser(
      { maxPayload: options.maxPayload, maxFragments: options.maxFragments, compression: deflate !== null },
      this,
    );
    this.#inflater = deflate ? new MessageInflater(deflate.clientNoContextTakeover) : null;
    this.#deflater = deflate ? new MessageDeflater(deflate.serverMaxWindowBits, deflate.serverNoContextTakeover) : null;
    this.#outbox = new Outbox(transport, this.#deflater, (error) => {
      socketControl.error(socket, "a message could not be prepared for sending", error);
      this.#fail({ code: CLOSE.internalError, reason: "internal error" });
    });
    socketControl.attach(socket, this, deflate ? deflate.response : "");
  }

  /** The 101 is queued: open the socket, then parse the bytes that came behind the request head. */
  open(leftover: Uint8Array | null): void {
    this.#armIdle();
    socketControl.open(this.#socket);
    if (leftover !== null && leftover.length > 0) this.onData(leftover);
  }

  // ---- the connection's callbacks ----

  /** Bytes from the peer. */
  onData(chunk: Uint8Array): void {
    this.#sawTraffic = true;
    if (this.#parser.done) return;
    const error = this.#parser.receive(chunk);
    if (error) this.#fail(error);
  }

  /** The peer sent FIN. Without a Close frame first, that is an abnormal end. */
  onEnd(): void {
    if (this.#closeReceived === null) this.#closeTransport();
  }

  /** The transport flushed: nothing to do beyond what bufferedAmount reads. */
  onDrain(): void {
    this.#outbox.trim();
  }

  /** The connection is gone. */
  onClose(error?: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#clearTimers();
    this.#parser.stop();
    this.#inflater?.close();
    this.#deflater?.close();
    this.ended?.(this.#outbox.sentBytes);
    const received = this.#closeReceived;
    const failure = this.#failure;
    if (error !== undefined && received === null && failure === null) {
      socketControl.error(this.#socket, error instanceof Error ? error.message : String(error), error);
    }
    if (failure) socketControl.closed(this.#socket, failure[0], failure[1], false);
    else if (received && this.#closeSent) socketControl.closed(this.#socket, received[0], received[1], true);
    else socketControl.closed(this.#socket, CLOSE.abnormal, "", false);
  }

  // ---- engine controls ----

  /** Starts a closing handshake from the server (shutdown: 1001). */
  shutdown(code: number = CLOSE.goingAway, reason = "server shutting down"): void {
    if (this.#finished) return;
    socketControl.closing(this.#socket);
    this.#sendClose(code, reason);
  }

  /** Cuts the connection at once. */
  destroy(): void {
    this.#transport.destroy();
  }

  // ---- SocketDriver ----

  /** Bytes of message data queued and not yet passed to the operating system. */
  get bufferedAmount(): number {
    return this.#outbox.bufferedAmount;
  }

  /** Queues a message. */
  send(data: Uint8Array | Promise<Uint8Array>, text: boolean, size: number): void {
    if (this.#closeRequested || this.#finished) return;
    if (this.#outbox.queuedBytes + size > this.#options.backpressureLimit) {
      this.#fail({ code: CLOSE.policyViolation, reason: "send buffer above the backpressure limit" });
      return;
    }
    this.#outbox.message(text ? OP_TEXT : OP_BINARY, data, size);
  }

  /** An application listener threw (or its promise rejected): logged, and the socket carries on. */
  reportError(message: string): void {
    this.#logError(message);
  }

  /** The socket's close(): a Close frame, then wait for the peer's. */
  close(code: number | undefined, reason: string): void {
    this.#sendClose(code, reason);
  }

  // ---- FrameSink ----

  /** A whole message from the parser. */
  message(opcode: typeof OP_TEXT | typeof OP_BINARY, data: Uint8Array<ArrayBuffer>, compressed: boolean): void {
    if (this.#closeSent && this.#failure) return;
    const text = opcode === OP_TEXT;
    if (!compressed && !this.#inBusy) {
      socketControl.message(this.#socket, text, data);
      return;
    }
    const pending = compressed ? this.#inflater!.inflate(data, this.#options.maxPayload) : data;
    // Awaited in order below; a failure may drop the queue first, and a dropped rejection must not go unhandled.
    if (pending instanceof Promise) pending.catch(() => {});
    this.#inQueue.push({ text, data: pending });
    if (this.#inQueue.length > INFLATE_BACKLOG) this.#transport.pauseReading();
    if (!this.#inBusy) this.#drainInQueue();
  }

  /** Answers with the same payload. */
  ping(payload: Uint8Array<ArrayBuffer>): void {
    if (!this.#closeSent) this.#outbox.control(OP_PONG, payload);
  }

  /** Any pong answers our idle ping. */
  pong(_payload: Uint8Array<ArrayBuffer>): void {
    this.#pingOutstanding = false;
  }

  /** The peer's Close: answered (after the messages before it are delivered), then the connection closes. */
  closeFrame(code: number, reason: string): void {
    this.#peerClosed(code, reason);
  }

  // ---- internals ----

  async #drainInQueue(): Promise<void> {
    this.#inBusy = true;
    try {
      while (this.#inQueue.length > 0 && !this.#finished) {
        const item = this.#inQueue[0];
        const data = await item.data;
        this.#inQueue.shift();
        if (this.#inQueue.length === INFLATE_BACKLOG) this.#transport.resumeReading();
        if (data === TOO_BIG) return this.#fail({ code: CLOSE.messageTooBig, reason: "message too big" });
        if (item.text && !isValidUtf8(data)) {
          return this.#fail({ code: CLOSE.invalidPayload, reason: "text message is not valid UTF-8" });
        }
        if (this.#failure) return;
        socketControl.message(this.#socket, item.text, data);
      }
    } catch {
      return this.#fail({ code: CLOSE.invalidPayload, reason: "compressed message does not inflate" });
    } finally {
      this.#inBusy = false;
    }
    const pendingClose = this.#pendingPeerClose;
    if (pendingClose) {
      this.#pendingPeerClose = null;
      this.#peerClosed(pendingClose[0], pendingClose[1]);
    }
  }

  #pendingPeerClose: [number, string] | null = null;

  #peerClosed(code: number, reason: string): void {
    if (this.#inBusy) {
      this.#pendingPeerClose = [code, reason];
      return;
    }
    this.#closeReceived = [code, reason];
    socketControl.closing(this.#socket);
    // Our Close answers it (after messages already queued), and then the connection closes.
    if (this.#closeSent) this.#closeTransport();
    else if (!this.#closeRequested) this.#sendClose(code === CLOSE.noStatus ? undefined : code, "");
  }

  #sendClose(code: number | undefined, reason: string): void {
    if (this.#closeRequested || this.#finished) return;
    this.#closeRequested = true;
    // Messages queued before close() go out first.
    this.#outbox.afterQueued(() => {
      if (this.#closeSent || this.#finished) return;
      this.#closeSent = true;
      this.#outbox.stop();
      this.#outbox.control(OP_CLOSE, closePayload(code, reason));
      // The peer closed first: ours answers it and the server closes the TCP connection (RFC 6455 7.1.1).
      if (this.#closeReceived !== null) this.#closeTransport();
      else this.#closeTimer ??= setTimeout(() => this.destroy(), this.#options.closeTimeout);
    });
  }

  /** Fail the connection: error event, our Close with the code, then close without waiting (RFC 6455 7.1.7). */
  #fail(error: ProtocolError): void {
    if (this.#failure || this.#finished) return;
    this.#failure = [error.code, error.reason];
    this.#parser.stop();
    this.#inQueue.length = 0;
    socketControl.error(this.#socket, error.reason);
    socketControl.closing(this.#socket);
    this.#closeRequested = true;
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#outbox.stop();
      this.#outbox.control(OP_CLOSE, closePayload(error.code, error.reason));
    }
    this.#closeTransport();
  }

  /** Close once flushed, and cut after closeTimeout if the peer does not read what is left. */
  #closeTransport(): void {
    this.#transport.close();
    this.#closeTimer ??= setTimeout(() => this.destroy(), this.#options.closeTimeout);
  }

  #armIdle(): void {
    const seconds = this.#options.idleTimeout;
    if (seconds <= 0) return;
    this.#idleTimer = setTimeout(() => this.#idleCheck(), seconds * 1000);
  }

  #idleCheck(): void {
    this.#idleTimer = null;
    if (this.#finished || this.#closeSent) return;
    if (this.#sawTraffic) {
      this.#sawTraffic = false;
      this.#pingOutstanding = false;
    } else if (!this.#pingOutstanding) {
      this.#pingOutstanding = true;
      this.#outbox.control(OP_PING, new Uint8Array(0));
    } else {
      this.#fail({ code: CLOSE.goingAway, reason: "No response from ping frame." });
      return;
    }
    this.#armIdle();
  }

  #clearTimers(): void {
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#closeTimer = this.#idleTimer = null;
  }
}
