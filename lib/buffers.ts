/**
 * Byte buffers that overflow to temporary files, as waitress's
 * OverflowableBuffer does: request bodies above `inbufOverflow` and pending
 * response bytes above `outbufOverflow` live on disk, not in memory.
 *
 * The temporary file is unlinked as soon as it is opened and only its
 * descriptor is kept, so nothing is left behind even if the process dies.
 *
 * @module
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let fileCounter = 0;

/** Opens an anonymous temporary file (created, then unlinked at once) and returns its descriptor. */
function openAnonymousFile(): number {
  const path = join(tmpdir(), `waitress-${Date.now().toString(36)}-${(fileCounter++).toString(36)}-${randomTag()}`);
  const fd = openSync(path, "wx+", 0o600);
  try {
    unlinkSync(path);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

function randomTag(): string {
  return Math.floor(Math.random() * 0x100000000).toString(36);
}

let openTempFiles = 0;

/** How many temporary files are open right now (for tests and leak checks). */
export function openTempFileCount(): number {
  return openTempFiles;
}

/** A temporary file written at the end and read from the front. */
class SpillFile {
  fd: number;
  writePos = 0;
  readPos = 0;
  constructor() {
    this.fd = openAnonymousFile();
    openTempFiles++;
  }
  get pending(): number {
    return this.writePos - this.readPos;
  }
  append(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      done += writeSync(this.fd, bytes, done, bytes.length - done, this.writePos + done);
    }
    this.writePos += bytes.length;
  }
  readAt(position: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === length ? out : out.subarray(0, done);
  }
  take(max: number): Uint8Array {
    const chunk = this.readAt(this.readPos, Math.min(max, this.pending));
    this.readPos += chunk.length;
    return chunk;
  }
  close(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      // Already closed: nothing to release.
    }
    this.fd = -1;
    openTempFiles--;
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0].length === total) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

const READ_CHUNK = 65536;

/**
 * A request body: written once while the request is received, then read by
 * the application (as many times as it is cloned). Copies what it is given.
 */
export class InputBuffer {
  #chunks: Uint8Array[] = [];
  #length = 0;
  #overflow: number;
  #file: SpillFile | null = null;

  /** Bodies longer than `overflow` bytes go to a temporary file. */
  constructor(overflow: number) {
    this.#overflow = overflow;
  }

  /** Bytes received so far. */
  get length(): number {
    return this.#length;
  }

  /** True once the body lives in a temporary file. */
  get inFile(): boolean {
    return this.#file !== null;
  }

  /** Appends a copy of `chunk` (which may be a view of a reused read buffer). */
  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#length += chunk.length;
    if (this.#file) {
      this.#file.append(chunk);
      return;
    }
    // A real copy: `slice()` on a node:buffer Buffer (what Node and Bun sockets deliver) is only a view.
    this.#chunks.push(new Uint8Array(chunk));
    if (this.#length > this.#overflow) this.#spill();
  }

  #spill(): void {
    const file = new SpillFile();
    for (const c of this.#chunks) file.append(c);
    this.#chunks = [];
    this.#file = file;
  }

  /** The whole body as one array. */
  bytes(): Uint8Array {
    if (this.#file) return this.#file.readAt(0, this.#length);
    return concat(this.#chunks, this.#length);
  }

  /** A fresh stream over the body, read in 64 KiB pieces from memory or the file; `onRead` runs at the first pull. */
  stream(onRead?: () => void): ReadableStream<Uint8Array> {
    let position = 0;
    let index = 0;
    return new ReadableStream<Uint8Array>({
      pull: (controller) => {
        onRead?.();
        if (this.#file) {
          if (position >= this.#length) return controller.close();
          const chunk = this.#file.readAt(position, Math.min(READ_CHUNK, this.#length - position));
          position += chunk.length;
          controller.enqueue(chunk);
          return;
        }
        if (index >= this.#chunks.length) return controller.close();
        // Hand out copies: the application may transfer or mutate what it reads.
        controller.enqueue(new Uint8Array(this.#chunks[index++]));
      },
      // No read-ahead: pull (and so `onRead`) happens only when someone reads.
    }, { highWaterMark: 0 });
  }

  /** Releases memory and closes the temporary file. */
  dispose(): void {
    this.#chunks = [];
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
