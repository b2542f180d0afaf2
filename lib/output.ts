/**
 * One connection's output (the outbuf side of waitress's HTTPChannel):
 * bytes leave in the order they were written; while pipelined requests wait
 * their turn small writes are held (corked) and sent as one; what the socket
 * cannot take yet waits in an OutputBuffer that overflows to a temporary
 * file; writers wait for room above `outbufHighWatermark`; and callers can
 * wait until everything written so far has been handed to the OS.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { OutputBuffer } from "./buffers.ts";
import type { Connection } from "./socket/types.ts";

const WRITE_SLICE = 256 * 1024;
/** Most bytes held back while pipelined responses are batched into one write. */
const CORK_LIMIT = 64 * 1024;

/** The ordered, back-pressured output of one connection. */
export class Output {
  /** `writeParts` sends pieces without copying them (the connection's `gathersWrites`). */
  readonly gathersWrites: boolean;
  /** The connection is gone: writes are dropped. */
  closed = false;
  /**
   * Set by the channel while more pipelined requests wait their turn: small
   * writes are then held and sent together once the pipeline is answered or
   * the event loop turns, so 16 pipelined requests cost one write, not 16.
   */
  holdSmallWrites = false;

  #conn: Connection;
  #highWatermark: number;
  #out: OutputBuffer;
  #writable = true;
  #roomWaiters: Array<() => void> = [];
  #flushWaiters: Array<() => void> = [];
  #cork: Uint8Array[] = [];
  #corkBytes = 0;
  #uncorkScheduled = false;

  constructor(conn: Connection, overflow: number, highWatermark: number) {
    this.#conn = conn;
    this.gathersWrites = conn.gathersWrites;
    this.#highWatermark = highWatermark;
    this.#out = new OutputBuffer(overflow);
  }

  /** Response bytes not yet handed to the OS. */
  get pending(): number {
    return this.#corkBytes + this.#out.length + this.#conn.bufferedAmount;
  }

  /** True while writers should wait before producing more (pending above the high watermark). */
  get congested(): boolean {
    return this.pending > this.#highWatermark;
  }

  /** Pending bytes above which the output is congested (outbufHighWatermark). */
  get highWatermark(): number {
    return this.#highWatermark;
  }

  /** False after the socket pushed back, until it drains. */
  get writable(): boolean {
    return this.#writable;
  }

  /** Bytes waiting here (in memory or the temporary file) for the socket to take them. */
  get buffered(): number {
    return this.#out.length;
  }

  /** Queues bytes; they are sent in order. The caller must not change them afterwards. */
  write(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    if (this.holdSmallWrites && this.#corkBytes + bytes.length <= CORK_LIMIT) {
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
    if (!this.#writable || this.#out.length > 0 || this.#corkBytes > 0 || this.holdSmallWrites) {
      for (let i = 0; i < parts.length; i++) this.write(parts[i]);
      return;
    }
    this.#writable = this.#conn.writev(parts);
    if (this.#writable && this.#flushWaiters.length > 0) this.#wakeFlushWaiters();
  }

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
      this.#writable = this.#conn.write(bytes);
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
      this.#writable = this.#conn.write(chunk);
    }
  }

  /**
   * The socket took what it was given (its onDrain): sends what waits here,
   * wakes writers waiting for room, and returns true when nothing is left
   * waiting (flush waiters are then woken too).
   */
  drained(): boolean {
    this.#writable = true;
    this.#flush();
    if (!this.#writable) return false;
    this.#wakeRoomWaiters();
    if (this.#out.length > 0) return false;
    this.#wakeFlushWaiters();
    return true;
  }

  /** Resolves once pending output is back under the high watermark, or the connection closed. */
  waitForRoom(): Promise<void> {
    if (!this.congested || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Calls `wake` once pending output is back under the high watermark (or the connection closed). */
  onRoom(wake: () => void): void {
    this.#roomWaiters.push(wake);
  }

  /** True when everything written so far was handed to the socket adapter, which owns the rest of the delivery. */
  get flushed(): boolean {
    return this.#writable && this.#out.length === 0 && this.#corkBytes === 0;
  }

  /** Calls `done` once everything written so far has been handed to the OS (or the connection closed). */
  whenFlushed(done: () => void): void {
    if (this.closed || this.flushed) done();
    else this.#flushWaiters.push(done);
  }

  #wakeRoomWaiters(): void {
    if (this.#roomWaiters.length === 0 || this.congested) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  #wakeFlushWaiters(): void {
    if (this.#flushWaiters.length === 0) return;
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of waiters) w();
  }

  /** The connection is gone: drops what waits (and its temporary file); writes are ignored from now on. */
  close(): void {
    this.closed = true;
    this.#out.dispose();
    this.#cork = [];
    this.#corkBytes = 0;
  }

  /** Wakes everyone waiting for room or for the flush (after close). */
  wakeAll(): void {
    const rooms = this.#roomWaiters;
    const flushes = this.#flushWaiters;
    this.#roomWaiters = [];
    this.#flushWaiters = [];
    for (const w of rooms) w();
    for (const w of flushes) w();
  }
}
