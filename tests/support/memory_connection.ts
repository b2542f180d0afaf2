/**
 * An in-memory `Connection` (lib/socket/types.ts) for driving a Channel
 * without sockets: the unit tests of the channel and the task, and the
 * engine benchmark (bench/engine.ts).
 *
 * The test plays the peer: `send` delivers bytes as socket reads would
 * (held while the engine paused reading, as the kernel holds them), `end`
 * is the peer's FIN, `reset` a connection reset. What the engine writes is
 * kept in `written`. With `full` set, writes report back-pressure (the peer
 * stopped reading) until `drain()`, as an adapter does.
 *
 * @module
 */
import type { Connection, ConnectionHandlers, SocketAddress } from "../../lib/socket/types.ts";

/** The peer address a MemoryConnection reports unless told otherwise. */
export const MEMORY_PEER: SocketAddress = { transport: "tcp", hostname: "127.0.0.1", port: 40000 };

const decoder = new TextDecoder("latin1");

/** One connection whose other end is the test (or the benchmark). */
export class MemoryConnection implements Connection {
  readonly remote: SocketAddress;
  /** Plain TCP: no TLS. */
  readonly tls: undefined = undefined;
  readonly gathersWrites: boolean;
  /** Bytes the "adapter" still holds; the test sets it to model a slow socket. */
  bufferedAmount = 0;
  /** Every write and writev piece, in order. */
  readonly written: Uint8Array[] = [];
  /** Calls of writev (each a gathered write). */
  gatheredWrites = 0;
  /** While true, write and writev return false (the peer is not reading). */
  full = false;
  /** Reading is paused by the engine. */
  paused = false;
  /** How often the engine paused reading. */
  pauses = 0;
  /** The engine asked for a close after its output (close()). */
  closeCalled = false;
  /** The engine asked to drop the connection (destroy()). */
  destroyed = false;
  /** onClose was delivered. */
  closed = false;
  #handlers: ConnectionHandlers | null = null;
  #held: Uint8Array[] = [];
  #endHeld = false;

  constructor(options: { remote?: SocketAddress; gathersWrites?: boolean } = {}) {
    this.remote = options.remote ?? MEMORY_PEER;
    this.gathersWrites = options.gathersWrites ?? true;
  }

  start(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
  }

  write(data: Uint8Array): boolean {
    if (this.closed || this.closeCalled || this.destroyed) return false;
    this.written.push(data);
    return !this.full;
  }

  writev(parts: readonly Uint8Array[]): boolean {
    if (this.closed || this.closeCalled || this.destroyed) return false;
    this.gatheredWrites++;
    for (let i = 0; i < parts.length; i++) this.written.push(parts[i]);
    return !this.full;
  }

  pauseReading(): void {
    if (!this.paused) this.pauses++;
    this.paused = true;
  }

  resumeReading(): void {
    this.paused = false;
    // As the adapters do: held bytes arrive later, never inside the engine's resumeReading().
    if (this.#held.length > 0 || this.#endHeld) queueMicrotask(() => this.#deliverHeld());
  }

  /** Output is "flushed" at once: the close is reported on a later turn, as a socket's is. */
  close(): void {
    if (this.closeCalled || this.destroyed) return;
    this.closeCalled = true;
    queueMicrotask(() => this.#closed());
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    queueMicrotask(() => this.#closed());
  }

  // ---- the peer's side ------------------------------------------------------

  /** The peer sends bytes: delivered now, or held while reading is paused. */
  send(data: Uint8Array | string): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (this.closed) return;
    if (this.paused || this.#held.length > 0) this.#held.push(bytes);
    else this.#handlers?.onData(bytes);
  }

  /** The peer half-closes (FIN): reported after any held bytes. */
  end(): void {
    if (this.closed) return;
    if (this.paused || this.#held.length > 0) this.#endHeld = true;
    else this.#handlers?.onEnd();
  }

  /** The peer reads again: everything written so far is taken. */
  drain(): void {
    this.full = false;
    this.bufferedAmount = 0;
    if (!this.closed) this.#handlers?.onDrain();
  }

  /** The connection breaks under the engine (a reset, a socket error). */
  reset(error: unknown = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })): void {
    if (this.closed) return;
    this.closed = true;
    this.#handlers?.onClose(error);
  }

  /** Bytes received by the engine but not delivered yet (reading paused). */
  get heldBytes(): number {
    let n = 0;
    for (const b of this.#held) n += b.length;
    return n;
  }

  /** Everything written so far, as one array. */
  bytes(): Uint8Array {
    let total = 0;
    for (const chunk of this.written) total += chunk.length;
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of this.written) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  /** Everything written so far, one byte per character. */
  text(): string {
    let out = "";
    for (const chunk of this.written) out += decoder.decode(chunk);
    return out;
  }

  /** Takes what was written so far as text, and forgets it. */
  take(): string {
    const text = this.text();
    this.written.length = 0;
    return text;
  }

  #deliverHeld(): void {
    while (this.#held.length > 0 && !this.paused && !this.closed) this.#handlers?.onData(this.#held.shift()!);
    if (this.#held.length === 0 && this.#endHeld && !this.paused && !this.closed) {
      this.#endHeld = false;
      this.#handlers?.onEnd();
    }
  }

  #closed(): void {
    if (this.closed) return;
    this.closed = true;
    this.#handlers?.onClose();
  }
}
