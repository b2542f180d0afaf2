/**
 * The server's end of a WebSocket, with the browser's `WebSocket` surface:
 * readyState and its constants, url, protocol, extensions, binaryType,
 * bufferedAmount, send, close, the on* handlers and addEventListener.
 *
 * The socket itself does no I/O: a {@link SocketDriver} (the session) sends
 * and closes for it, and drives its state through {@link socketControl}.
 *
 * An exception thrown by a listener (or a promise it returns that rejects)
 * is logged and the socket carries on, as in a browser; dispatched raw, it
 * would reach the runtime's uncaught-exception handler and stop the whole
 * server on Node, Deno and Bun alike.
 *
 * @module
 */
import { describeError } from "../utilities.ts";
import { closeEvent, errorEvent, messageEvent } from "./events.ts";

/** What the socket asks of the connection behind it. */
export interface SocketDriver {
  /** Queue one message. `data` is only valid during the call (the driver copies it); a Blob's bytes arrive later. */
  send(data: Uint8Array | Promise<Uint8Array>, text: boolean, size: number): void;
  /** Start the closing handshake (code undefined: a Close frame without a code). */
  close(code: number | undefined, reason: string): void;
  /** Bytes of message data queued and not yet passed to the operating system. */
  readonly bufferedAmount: number;
  /** An application listener threw: log it (the socket carries on, as a browser's does). */
  reportError(message: string): void;
}

/** The lifecycle calls the session makes on its socket. */
export interface SocketControl {
  /** Link the driver; `extensions` is what the 101 agreed. */
  attach(socket: ServerWebSocket, driver: SocketDriver, extensions: string): void;
  /** OPEN, then the "open" event. */
  open(socket: ServerWebSocket): void;
  /** A received message (text already validated). */
  message(socket: ServerWebSocket, text: boolean, data: Uint8Array<ArrayBuffer>): void;
  /** CLOSING: the closing handshake started (either side). */
  closing(socket: ServerWebSocket): void;
  /** An "error" event (the connection failed). */
  error(socket: ServerWebSocket, message: string, error?: unknown): void;
  /** CLOSED, then the "close" event. Later calls are ignored. */
  closed(socket: ServerWebSocket, code: number, reason: string, wasClean: boolean): void;
}

type Handler = ((this: ServerWebSocket, event: Event) => unknown) | null;
type BinaryType = "blob" | "arraybuffer";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const REASON_LIMIT = 123;

function domException(message: string, name: string): Error {
  return new DOMException(message, name);
}

/**
 * The bytes as an ArrayBuffer of their own: zlib's output is a Node Buffer,
 * a view into a shared pool (whose slice() is a view too, so copy).
 */
function exactBuffer(data: Uint8Array<ArrayBuffer>): ArrayBuffer {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
    ? data.buffer
    : new Uint8Array(data).buffer;
}

/** once/passive do not tell listeners apart; capture does (as in EventTarget). */
function guardKey(type: string, options?: boolean | EventListenerOptions): string {
  const capture = typeof options === "boolean" ? options : options?.capture === true;
  return capture ? `${type} capture` : type;
}

/** Filled in by the class's static block: the only way to drive a socket's state. */
export let socketControl: SocketControl;

/** A WebSocket as the server sees it; made by `upgradeWebSocket`. */
export class ServerWebSocket extends EventTarget {
  /** The connection is not yet open. */
  static readonly CONNECTING = 0;
  /** Open: messages flow. */
  static readonly OPEN = 1;
  /** The closing handshake has started. */
  static readonly CLOSING = 2;
  /** Closed. */
  static readonly CLOSED = 3;
  /** The connection is not yet open. */
  readonly CONNECTING = 0;
  /** Open: messages flow. */
  readonly OPEN = 1;
  /** The closing handshake has started. */
  readonly CLOSING = 2;
  /** Closed. */
  readonly CLOSED = 3;

  #readyState = 0;
  #url: string;
  #origin: string;
  #protocol: string;
  #extensions = "";
  #binaryType: BinaryType = "blob";
  #driver: SocketDriver | null = null;
  /** A close() made before the connection opened, replayed on attach. */
  #earlyClose: [number | undefined, string] | null = null;
  #handlers: Record<string, Handler> = {};
  /** The guarded wrapper of each listener, per type and capture flag, so removeEventListener finds it. */
  #guards = new Map<EventListenerOrEventListenerObject, Map<string, EventListener>>();

  /** Made by `upgradeWebSocket` only: `url` of the request, `protocol` the chosen subprotocol ("" for none). */
  constructor(url: string, protocol: string) {
    super();
    this.#url = url;
    this.#origin = URL.canParse(url) ? new URL(url).origin : "";
    this.#protocol = protocol;
  }

  static {
    socketControl = {
      attach(socket, driver, extensions) {
        socket.#driver = driver;
        socket.#extensions = extensions;
      },
      open(socket) {
        if (socket.#readyState !== 0) return;
        socket.#readyState = 1;
        socket.dispatchEvent(new Event("open"));
        const early = socket.#earlyClose;
        if (early) {
          socket.#earlyClose = null;
          socket.#readyState = 2;
          socket.#driver!.close(early[0], early[1]);
        }
      },
      message(socket, text, data) {
        if (socket.#readyState !== 1 && socket.#readyState !== 2) return;
        let value: unknown;
        if (text) value = decoder.decode(data);
        else if (socket.#binaryType === "arraybuffer") value = exactBuffer(data);
        else value = new Blob([data]);
        socket.dispatchEvent(messageEvent(value, socket.#origin));
      },
      closing(socket) {
        if (socket.#readyState < 2) socket.#readyState = 2;
      },
      error(socket, message, error) {
        if (socket.#readyState === 3) return;
        socket.dispatchEvent(errorEvent(message, error));
      },
      closed(socket, code, reason, wasClean) {
        if (socket.#readyState === 3) return;
        socket.#readyState = 3;
        socket.dispatchEvent(closeEvent(code, reason, wasClean));
      },
    };
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  get readyState(): number {
    return this.#readyState;
  }

  /** The URL of the upgrade request (ws: or wss: scheme). */
  get url(): string {
    return this.#url;
  }

  /** The subprotocol the server chose, or "". */
  get protocol(): string {
    return this.#protocol;
  }

  /** The extensions agreed in the handshake ("permessage-deflate; ..."), or "". */
  get extensions(): string {
    return this.#extensions;
  }

  /** How binary messages arrive: "blob" (default) or "arraybuffer". */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(value: BinaryType) {
    // The browser ignores values it does not know.
    if (value === "blob" || value === "arraybuffer") this.#binaryType = value;
  }

  /** Bytes of message data queued by send() and not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.#driver === null ? 0 : this.#driver.bufferedAmount;
  }

  /** Sends a message: a string as text, anything else as binary. Throws while CONNECTING. */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    if (this.#readyState === 0) throw domException("the WebSocket is not open yet", "InvalidStateError");
    if (this.#readyState !== 1) return;
    const driver = this.#driver!;
    if (typeof data === "string") {
      const bytes = encoder.encode(data);
      driver.send(bytes, true, bytes.length);
    } else if (data instanceof Blob) {
      driver.send(data.arrayBuffer().then((b) => new Uint8Array(b)), false, data.size);
    } else if (ArrayBuffer.isView(data)) {
      driver.send(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), false, data.byteLength);
    } else if (
      data instanceof ArrayBuffer || (typeof SharedArrayBuffer === "function" && data instanceof SharedArrayBuffer)
    ) {
      driver.send(new Uint8Array(data), false, data.byteLength);
    } else {
      const bytes = encoder.encode(String(data));
      driver.send(bytes, true, bytes.length);
    }
  }

  /** Starts the closing handshake; `code` 1000 or 3000-4999, `reason` at most 123 bytes of UTF-8. */
  close(code?: number, reason?: string): void {
    if (code !== undefined) {
      code = Number(code) | 0;
      if (code !== 1000 && (code < 3000 || code > 4999)) {
        throw domException(`close code must be 1000 or 3000-4999, not ${code}`, "InvalidAccessError");
      }
    }
    const text = reason === undefined ? "" : String(reason);
    if (encoder.encode(text).length > REASON_LIMIT) {
      throw domException("close reason longer than 123 bytes", "SyntaxError");
    }
    if (this.#readyState >= 2) return;
    if (this.#readyState === 0) {
      this.#earlyClose = [code, text];
      return;
    }
    this.#readyState = 2;
    this.#driver!.close(code, text);
  }

  /** Adds `listener`, guarded so that what it throws is logged instead of stopping the server. */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (listener === null) return;
    const key = guardKey(type, options);
    let byType = this.#guards.get(listener);
    if (byType === undefined) this.#guards.set(listener, byType = new Map());
    let guard = byType.get(key);
    if (guard === undefined) {
      guard = (event: Event) => this.#invoke(listener, event);
      byType.set(key, guard);
    }
    super.addEventListener(type, guard, options);
  }

  /** Removes a listener added with {@link addEventListener}. */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    if (listener === null) return;
    const byType = this.#guards.get(listener);
    const key = guardKey(type, options);
    const guard = byType?.get(key);
    if (guard === undefined) return;
    byType!.delete(key);
    if (byType!.size === 0) this.#guards.delete(listener);
    super.removeEventListener(type, guard, options);
  }

  #invoke(listener: EventListenerOrEventListenerObject, event: Event): void {
    try {
      const result: unknown = typeof listener === "function" ? listener.call(this, event) : listener.handleEvent(event);
      if (result !== null && typeof (result as Promise<unknown>)?.then === "function") {
        (result as Promise<unknown>).then(undefined, (error) => this.#report(event.type, error));
      }
    } catch (error) {
      this.#report(event.type, error);
    }
  }

  #report(type: string, error: unknown): void {
    const message = `Exception in WebSocket "${type}" listener for ${this.#url}\n${describeError(error)}`;
    if (this.#driver !== null) this.#driver.reportError(message);
    else console.error(message);
  }

  #handler(type: string): Handler {
    return this.#handlers[type] ?? null;
  }

  #setHandler(type: string, fn: Handler): void {
    if (!(type in this.#handlers)) {
      // Registered once, where the handler was first set, as the browser does.
      this.addEventListener(type, (event) => this.#handlers[type]?.call(this, event));
    }
    this.#handlers[type] = typeof fn === "function" ? fn : null;
  }

  /** Called on "open". */
  get onopen(): Handler {
    return this.#handler("open");
  }
  set onopen(fn: Handler) {
    this.#setHandler("open", fn);
  }
  /** Called on "message". */
  get onmessage(): ((this: ServerWebSocket, event: MessageEvent) => unknown) | null {
    return this.#handler("message");
  }
  set onmessage(fn: ((this: ServerWebSocket, event: MessageEvent) => unknown) | null) {
    this.#setHandler("message", fn as Handler);
  }
  /** Called on "close". */
  get onclose(): ((this: ServerWebSocket, event: CloseEvent) => unknown) | null {
    return this.#handler("close");
  }
  set onclose(fn: ((this: ServerWebSocket, event: CloseEvent) => unknown) | null) {
    this.#setHandler("close", fn as Handler);
  }
  /** Called on "error". */
  get onerror(): Handler {
    return this.#handler("error");
  }
  set onerror(fn: Handler) {
    this.#setHandler("error", fn);
  }
}
