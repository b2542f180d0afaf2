/**
 * Byte buffers that overflow to temporary files, as waitress's
 * OverflowableBuffer does: request bodies above `inbufOverflow` and pending
 * response bytes above `outbufOverflow` do not stay in memory. A request body
 * keeps its first `inbufOverflow` bytes in memory and spills only the rest
 * (waitress moves all of it to the file); pending output moves to the file
 * once it passes the overflow, as in waitress.
 *
 * @module
 */
import { acquireHead, releaseHead, SpillFile } from "./spill_store.ts";
import { concatBytes as concat } from "./utilities.ts";

export { closeIdleTempFiles, idleHeadCount, idleTempFileCount, openTempFileCount } from "./spill_store.ts";

const READ_CHUNK = 65536;

/**
 * A request body: written once while the request is received, then read by
 * the application (as many times as it is cloned). Copies what it is given.
 *
 * When the length is announced (Content-Length), the body is not gathered in
 * pieces: one array of that size is filled in place, or, above the overflow,
 * the first `overflow` bytes fill a recycled head and the rest goes straight
 * to the temporary file. Either way each byte is copied once on the way in,
 * and no body holds more than `overflow` bytes of memory until the
 * application asks for all of it.
 */
export class InputBuffer {
  #chunks: Uint8Array[] = [];
  /** The body's own array, when its length was announced and fits in memory. */
  #whole: Uint8Array | null = null;
  /** Set once the body's own array was given away, or once a clone may read the body too. */
  #copyOnRead = false;
  #length = 0;
  #overflow: number;
  #expected: number;
  /** The first `overflow` bytes of a spilled body (a recycled array, never handed out). */
  #head: Uint8Array | null = null;
  #headLength = 0;
  /** The bytes after the head. */
  #file: SpillFile | null = null;

  /**
   * Bodies longer than `overflow` bytes spill their tail to a temporary file.
   * `expected` is the announced length, or -1 when unknown (chunked).
   */
  constructor(overflow: number, expected = -1) {
    this.#overflow = overflow;
    this.#expected = expected;
  }

  /** Bytes received so far. */
  get length(): number {
    return this.#length;
  }

  /** Bytes of memory the body holds now (its array, its pieces, or its head); never more than the overflow until read whole. */
  get memoryBytes(): number {
    if (this.#head !== null) return this.#head.length;
    if (this.#whole !== null) return this.#whole.length;
    let n = 0;
    for (const c of this.#chunks) n += c.length;
    return n;
  }

  /** True once part of the body lives in a temporary file. */
  get inFile(): boolean {
    return this.#file !== null;
  }

  /** Appends a copy of `chunk` (which may be a view of a reused read buffer). */
  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#length === 0 && this.#expected > 0) {
      // Allocated at the first byte, not at the head: a head alone must not cost the body's memory.
      if (this.#expected <= this.#overflow) this.#whole ??= new Uint8Array(this.#expected);
      else this.#head ??= acquireHead(this.#overflow);
    }
    const whole = this.#whole;
    if (whole !== null && this.#length + chunk.length <= whole.length) {
      whole.set(chunk, this.#length);
      this.#length += chunk.length;
      return;
    }
    if (whole !== null) this.#unwhole(); // more than announced: the receivers never do this, but stay correct
    this.#length += chunk.length;
    if (this.#head !== null) return this.#appendSpilled(chunk);
    // A real copy: `slice()` on a node:buffer Buffer (what Node and Bun sockets deliver) is only a view.
    this.#chunks.push(new Uint8Array(chunk));
    if (this.#length > this.#overflow) this.#spill();
  }

  #unwhole(): void {
    this.#chunks = [this.#whole!.subarray(0, this.#length)];
    this.#whole = null;
  }

  /** The first bytes fill the head; the rest goes to the file (opened at the first byte past the head). */
  #appendSpilled(chunk: Uint8Array): void {
    const head = this.#head!;
    const room = head.length - this.#headLength;
    if (room > 0) {
      const n = Math.min(room, chunk.length);
      head.set(n === chunk.length ? chunk : chunk.subarray(0, n), this.#headLength);
      this.#headLength += n;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    (this.#file ??= new SpillFile()).append(chunk);
  }

  /** Gathered pieces went past the overflow: they move into a head, the excess to the file. */
  #spill(): void {
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#head = acquireHead(this.#overflow);
    for (const c of chunks) this.#appendSpilled(c);
  }

  /** A second request (a clone) reads this body too: every reader gets its own copy from now on. */
  share(): void {
    this.#copyOnRead = true;
  }

  /**
   * The whole body as one array, the caller's to keep and change. The body's
   * own array is handed over without a copy when nobody else can read it.
   */
  bytes(): Uint8Array {
    const head = this.#head;
    if (head !== null) {
      const out = new Uint8Array(this.#length);
      out.set(head.subarray(0, this.#headLength));
      const tail = this.#length - this.#headLength;
      const got = this.#file ? this.#file.readInto(out, this.#headLength, tail, 0) : 0;
      return got === tail ? out : out.slice(0, this.#headLength + got);
    }
    const whole = this.#whole;
    if (whole !== null) {
      // Short of the announced length (a body cut off, never served): a copy of what arrived, so
      // that `.buffer` is exactly the body.
      if (this.#length !== whole.length || this.#copyOnRead) return whole.slice(0, this.#length);
      this.#copyOnRead = true;
      return whole;
    }
    const joined = concat(this.#chunks, this.#length);
    // concat returns a lone piece as it is; that piece is ours, so hand out a copy of it.
    return joined === this.#chunks[0] ? joined.slice() : joined;
  }

  /** A copy of up to `size` bytes at `position`, from the head, the file, or the body's own array. */
  #copyAt(position: number, size: number): Uint8Array {
    if (this.#head === null) return this.#whole!.slice(position, position + size);
    if (position < this.#headLength) return this.#head.slice(position, Math.min(position + size, this.#headLength));
    return this.#file!.readAt(position - this.#headLength, size);
  }

  /** A fresh stream over the body, read in 64 KiB pieces from memory or the file; `onRead` runs at the first pull. */
  stream(onRead?: () => void): ReadableStream<Uint8Array> {
    let position = 0;
    let index = 0;
    return new ReadableStream<Uint8Array>({
      pull: (controller) => {
        onRead?.();
        if (this.#head || this.#whole) {
          if (position >= this.#length) return controller.close();
          // Copies: the application may transfer or mutate what it reads.
          const chunk = this.#copyAt(position, Math.min(READ_CHUNK, this.#length - position));
          if (chunk.length === 0) return controller.close();
          position += chunk.length;
          controller.enqueue(chunk);
          return;
        }
        if (index >= this.#chunks.length) return controller.close();
        controller.enqueue(new Uint8Array(this.#chunks[index++]));
      },
      // No read-ahead: pull (and so `onRead`) happens only when someone reads.
    }, { highWaterMark: 0 });
  }

  /** Releases memory and closes the temporary file. */
  dispose(): void {
    this.#chunks = [];
    this.#whole = null;
    if (this.#head !== null) releaseHead(this.#head);
    this.#head = null;
    this.#headLength = 0;
    this.#file?.close();
    this.#file = null;
  }
}

/**
 * Pending response bytes of one connection, in order: in memory until more
 * than `overflow` bytes wait, then appended to a temporary file until the
 * file has been drained again.
 */
export class OutputBuffer {
  #chunks: Uint8Array[] = [];
  #head = 0;
  #memory = 0;
  #file: SpillFile | null = null;
  #overflow: number;

  /** Pending bytes above `overflow` go to a temporary file. */
  constructor(overflow: number) {
    this.#overflow = overflow;
  }

  /** Bytes waiting to be written. */
  get length(): number {
    return this.#memory + (this.#file ? this.#file.pending : 0);
  }

  /** True while some pending bytes live in a temporary file. */
  get inFile(): boolean {
    return this.#file !== null;
  }

  /** Queues bytes. The caller must not change them afterwards (they are not copied while in memory). */
  append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#file) {
      this.#file.append(bytes);
      return;
    }
    if (this.#memory + bytes.length > this.#overflow && this.#memory > 0) {
      this.#file = new SpillFile();
      this.#file.append(bytes);
      return;
    }
    this.#chunks.push(bytes);
    this.#memory += bytes.length;
  }

  /** Removes and returns the next piece to write (at most `max` bytes from the file; memory chunks whole). */
  take(max: number): Uint8Array | null {
    if (this.#head < this.#chunks.length) {
      const chunk = this.#chunks[this.#head];
      this.#chunks[this.#head++] = EMPTY;
      this.#memory -= chunk.length;
      if (this.#head === this.#chunks.length) {
        this.#chunks = [];
        this.#head = 0;
      }
      return chunk;
    }
    if (this.#file) {
      const chunk = this.#file.take(max);
      if (this.#file.pending === 0) {
        this.#file.close();
        this.#file = null;
      }
      return chunk.length > 0 ? chunk : null;
    }
    return null;
  }

  /** Drops everything pending and closes the temporary file. */
  dispose(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#memory = 0;
    this.#file?.close();
    this.#file = null;
  }
}

const EMPTY = new Uint8Array(0);
