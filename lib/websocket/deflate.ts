/**
 * permessage-deflate's codec (RFC 7692 section 7.2) over `node:zlib` raw
 * deflate, which Deno, Bun and Node all provide. One inflater and one
 * deflater per connection keep their windows between messages (context
 * takeover) unless the negotiation said otherwise. Inflated output is
 * counted as it is produced and abandoned past the cap: a small compressed
 * message cannot inflate into gigabytes.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import zlib from "node:zlib";
import { concatBytes } from "../utilities.ts";

/** The four bytes a sync flush ends with; RFC 7692 has the sender drop them and the receiver add them back. */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** The result of inflating past the cap. */
export const TOO_BIG: unique symbol = Symbol("too big");

/**
 * What the codec uses of a zlib stream. Declared here so that the package's
 * type declarations do not need Node's types (a browser-typed consumer has none).
 */
interface RawStream {
  on(event: string, listener: (value: Uint8Array & Error) => void): unknown;
  off(event: string, listener: (value: Uint8Array & Error) => void): unknown;
  write(chunk: Uint8Array): unknown;
  flush(kind: number, callback: () => void): void;
  destroy(): unknown;
}

/** Runs one raw zlib stream, one message at a time. */
class Codec {
  #make: () => RawStream;
  #stream: RawStream | null = null;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(make: () => RawStream) {
    this.#make = make;
  }

  /** Queues a job so messages are processed in order. */
  protected enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(job, job);
    this.#tail = run.catch(() => {});
    return run;
  }

  /**
   * Writes `parts` and sync-flushes; resolves with the output, or TOO_BIG once
   * it passes `cap` (the stream is then discarded).
   */
  protected process(parts: Uint8Array[], cap: number): Promise<Uint8Array<ArrayBuffer> | typeof TOO_BIG> {
    if (this.#closed) return Promise.reject(new Error("the WebSocket compression context is closed"));
    const stream = this.#stream ??= this.#open();
    return new Promise((resolve, reject) => {
      const chunks: Uint8Array[] = [];
      let total = 0;
      let settled = false;
      const settle = (value: Uint8Array<ArrayBuffer> | typeof TOO_BIG | Error) => {
        if (settled) return;
        settled = true;
        stream.off("data", onData);
        stream.off("error", onError);
        if (value instanceof Error || value === TOO_BIG) this.discard();
        if (value instanceof Error) reject(value);
        else resolve(value);
      };
      const onData = (chunk: Uint8Array) => {
        total += chunk.length;
        if (total > cap) settle(TOO_BIG);
        else chunks.push(chunk);
      };
      const onError = (error: Error) => settle(error);
      stream.on("data", onData);
      stream.on("error", onError);
      for (const p of parts) stream.write(p);
      stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        // Deno runs this callback before the stream's "error" event for corrupt input: let the error come first.
        setImmediate(() => settle(concatBytes(chunks, total)));
      });
    });
  }

  /** A fresh stream, with a lasting error listener so that a late error is never unhandled. */
  #open(): RawStream {
    const stream = this.#make();
    stream.on("error", () => {});
    return stream;
  }

  /** Drops the stream (and its window): the next message starts a fresh one. */
  protected discard(): void {
    const stream = this.#stream;
    this.#stream = null;
    stream?.destroy();
  }

  /** Frees the zlib stream; later calls reject. */
  close(): void {
    this.#closed = true;
    this.discard();
  }
}

/** Inflates received messages. */
export class MessageInflater extends Codec {
  readonly #noContextTakeover: boolean;

  /** `noContextTakeover`: the client resets its window every message, so ours need not be kept. */
  constructor(noContextTakeover: boolean) {
    super(() => zlib.createInflateRaw({ windowBits: 15 }));
    this.#noContextTakeover = noContextTakeover;
  }

  /** The inflated message, or TOO_BIG once it would pass `maxSize` bytes. Rejects on corrupt data. */
  inflate(data: Uint8Array, maxSize: number): Promise<Uint8Array<ArrayBuffer> | typeof TOO_BIG> {
    return this.enqueue(async () => {
      const out = await this.process([data, TAIL], maxSize);
      if (this.#noContextTakeover) this.discard();
      return out;
    });
  }
}

/** Compresses messages to send. */
export class MessageDeflater extends Codec {
  readonly #noContextTakeover: boolean;

  /** `windowBits` 9-15 as negotiated; `noContextTakeover` resets the window after every message. */
  constructor(windowBits: number, noContextTakeover: boolean) {
    super(() => zlib.createDeflateRaw({ windowBits, memLevel: 8 }));
    this.#noContextTakeover = noContextTakeover;
  }

  /** The compressed payload for one message (the flush's trailing 00 00 FF FF removed). */
  deflate(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    return this.enqueue(async () => {
      const out = await this.process([data], Infinity) as Uint8Array<ArrayBuffer>;
      if (this.#noContextTakeover) this.discard();
      return out.length >= 4 ? out.subarray(0, out.length - 4) : out;
    });
  }
}
