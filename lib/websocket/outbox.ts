/**
 * The outgoing side of a WebSocket session: messages framed in order
 * (waiting, where needed, for a Blob's bytes or for compression), control
 * frames written at once, and the exact count of message bytes not yet
 * passed to the operating system (`bufferedAmount`).
 *
 * @module
 */
import type { Connection } from "../socket/types.ts";
import type { MessageDeflater } from "./deflate.ts";
import { encodeHeader, headerLength, writeHeader } from "./frame.ts";

/** What the session needs of the connection (the engine's, or a test double). */
export type Transport = Pick<
  Connection,
  "write" | "writev" | "gathersWrites" | "bufferedAmount" | "pauseReading" | "resumeReading" | "close" | "destroy"
>;

/** Payloads up to this size are copied behind their header and written as one piece. */
const JOIN_LIMIT = 16 * 1024;

type Outgoing = { opcode: number; data: Uint8Array | Promise<Uint8Array>; size: number };

/** Frames and writes one session's outgoing messages. */
export class Outbox {
  readonly #transport: Transport;
  readonly #deflater: MessageDeflater | null;
  readonly #onFailure: (error: unknown) => void;
  /** Messages waiting for a Blob's bytes or compression, in order. */
  #queue: Outgoing[] = [];
  #busy = false;
  #stopped = false;
  /** Payload bytes in #queue. */
  #pendingPayload = 0;
  /**
   * Wire bytes handed to the transport, and per-message [wire end, payload
   * size] records not yet flushed. The transport's own count covers the 101
   * head and our frames only, so our bytes flushed are #wireTotal minus it.
   */
  #wireTotal = 0;
  #records: number[] = [];
  #recordsHead = 0;
  #whenIdle: (() => void) | null = null;

  /** `onFailure` hears a message that could not be prepared (a Blob that failed to read, a zlib error). */
  constructor(transport: Transport, deflater: MessageDeflater | null, onFailure: (error: unknown) => void) {
    this.#transport = transport;
    this.#deflater = deflater;
    this.#onFailure = onFailure;
  }

  /** Bytes of message data queued and not yet passed to the operating system. */
  get bufferedAmount(): number {
    this.trim();
    let amount = this.#pendingPayload;
    const written = this.#written();
    for (let i = this.#recordsHead; i < this.#records.length; i += 2) {
      amount += Math.min(this.#records[i + 1], this.#records[i] - written);
    }
    return amount;
  }

  /** Everything queued: bytes the transport holds plus messages not yet framed. */
  get queuedBytes(): number {
    return this.#transport.bufferedAmount + this.#pendingPayload;
  }

  /** Queues a message; `data` is only valid during the call. */
  message(opcode: number, data: Uint8Array | Promise<Uint8Array>, size: number): void {
    if (this.#stopped) return;
    if (!this.#busy && this.#deflater === null && data instanceof Uint8Array) {
      this.#writeMessage(opcode, data, false, size);
      return;
    }
    // A Blob that fails to read is reported when its turn comes; if stop() drops it first, it must not go unhandled.
    if (!(data instanceof Uint8Array)) data.catch(() => {});
    this.#queue.push({ opcode, data: data instanceof Uint8Array ? new Uint8Array(data) : data, size });
    this.#pendingPayload += size;
    if (!this.#busy) void this.#drain();
  }

  /** Writes a control frame now (ahead of messages still being prepared). */
  control(opcode: number, payload: Uint8Array): void {
    const frame = new Uint8Array(2 + payload.length);
    writeHeader(frame, opcode, payload.length);
    frame.set(payload, 2);
    this.#write([frame]);
  }

  /** Runs `fn` once every message queued so far has been written (now, when none waits). */
  afterQueued(fn: () => void): void {
    if (this.#busy) this.#whenIdle = fn;
    else fn();
  }

  /** Drops what is queued and writes no more messages. */
  stop(): void {
    this.#stopped = true;
    this.#queue.length = 0;
    this.#pendingPayload = 0;
  }

  /** Forgets records of messages the transport has passed on. */
  trim(): void {
    const written = this.#written();
    const records = this.#records;
    while (this.#recordsHead < records.length && records[this.#recordsHead] <= written) this.#recordsHead += 2;
    if (this.#recordsHead === records.length) {
      records.length = 0;
      this.#recordsHead = 0;
    }
  }

  /** Our frame bytes the transport has passed on to the operating system (the access log's `b` of a 101). */
  get sentBytes(): number {
    return Math.max(0, this.#written());
  }

  /** Our frame bytes the transport has passed on (negative while the 101 head is still queued). */
  #written(): number {
    return this.#wireTotal - this.#transport.bufferedAmount;
  }

  #write(parts: Uint8Array[]): void {
    let n = 0;
    for (const p of parts) n += p.length;
    this.#wireTotal += n;
    if (parts.length === 1) this.#transport.write(parts[0]);
    else this.#transport.writev(parts);
  }

  #writeMessage(opcode: number, payload: Uint8Array, compressed: boolean, size: number): void {
    const length = payload.length;
    const options = compressed ? { rsv1: true } : undefined;
    if (length <= JOIN_LIMIT || !this.#transport.gathersWrites) {
      const frame = new Uint8Array(headerLength(length, false) + length);
      frame.set(payload, writeHeader(frame, opcode, length, options));
      this.#write([frame]);
    } else {
      // The caller's bytes are only valid during the call; compressed output is ours already.
      this.#write([encodeHeader(opcode, length, options), compressed ? payload : new Uint8Array(payload)]);
    }
    this.#records.push(this.#wireTotal, size);
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#queue.length > 0) {
        const item = this.#queue[0];
        let payload = await item.data;
        let compressed = false;
        if (this.#deflater !== null && payload.length > 0 && !this.#stopped) {
          payload = await this.#deflater.deflate(payload);
          compressed = true;
        }
        if (this.#stopped) break;
        this.#queue.shift();
        this.#pendingPayload -= item.size;
        this.#writeMessage(item.opcode, payload, compressed, item.size);
      }
    } catch (error) {
      this.stop();
      this.#onFailure(error);
    } finally {
      this.#busy = false;
    }
    const then = this.#whenIdle;
    this.#whenIdle = null;
    then?.();
  }
}
