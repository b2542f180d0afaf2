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
import { clearTimeout, setTimeout } from "node:timers";
import { concatBytes as concat } from "./utilities.ts";

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

/** How many temporary files hold a body or pending output right now (for tests and leak checks). */
export function openTempFileCount(): number {
  return openTempFiles;
}

// ---- reuse -----------------------------------------------------------------
//
// Creating, unlinking and closing a file per spilled body costs more than the
// writes, which overwrite pages that already exist far more cheaply than they
// fill a fresh file (figures in bench/README.md, "Reused files"). So a released
// file is kept for the next body (it is rewritten from offset 0; bytes past the
// new length are never read), a few at a time and for a short while only.

/** Most idle files kept. */
const POOL_FILES = 8;
/** A file that grew beyond this is closed, not kept: its pages would stay in the page cache. */
const POOL_FILE_BYTES = 4 * 1024 * 1024;
/** Idle files are closed after this long without reuse. */
const POOL_IDLE_MS = 2000;

let idleFiles: Array<{ fd: number; since: number }> = [];
let idleSweep: ReturnType<typeof setTimeout> | null = null;

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to release.
  }
}

function acquireFile(): number {
  return idleFiles.pop()?.fd ?? openAnonymousFile();
}

function releaseFile(fd: number, size: number): void {
  if (size > POOL_FILE_BYTES || idleFiles.length >= POOL_FILES) {
    closeQuietly(fd);
    return;
  }
  idleFiles.push({ fd, since: Date.now() });
  if (idleSweep === null) scheduleIdleSweep();
}

function scheduleIdleSweep(): void {
  idleSweep = setTimeout(sweepIdleFiles, POOL_IDLE_MS);
  // Never keeps the process alive.
  (idleSweep as { unref?: () => void }).unref?.();
}

function sweepIdleFiles(): void {
  idleSweep = null;
  const cutoff = Date.now() - POOL_IDLE_MS;
  // Oldest first: files are reused from the end.
  let keep = 0;
  while (keep < idleFiles.length && idleFiles[keep].since <= cutoff) closeQuietly(idleFiles[keep++].fd);
  idleFiles = idleFiles.slice(keep);
  if (idleFiles.length > 0) scheduleIdleSweep();
}

/** Closes the temporary files kept for reuse (at server close; also handy in tests). */
export function closeIdleTempFiles(): void {
  for (const f of idleFiles) closeQuietly(f.fd);
  idleFiles = [];
  if (idleSweep !== null) clearTimeout(idleSweep);
  idleSweep = null;
}

/** How many temporary files are kept for reuse right now. */
export function idleTempFileCount(): number {
  return idleFiles.length;
}

/** A temporary file written at the end and read from the front. */
class SpillFile {
  fd: number;
  writePos = 0;
  readPos = 0;
  constructor() {
    this.fd = acquireFile();
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
  /** Gives the file back (kept for reuse, or closed). */
  close(): void {
    if (this.fd < 0) return;
    releaseFile(this.fd, this.writePos);
    this.fd = -1;
    openTempFiles--;
  }
}

const READ_CHUNK = 65536;

/**
 * A request body: written once while the request is received, then read by
 * the application (as many times as it is cloned). Copies what it is given.
 *
 * When the length is announced (Content-Length), the body is not gathered in
 * pieces: one array of that size is filled in place, or, above the overflow,
 * bytes go straight to the temporary file. Either way each byte is copied
 * once on the way in.
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
  #file: SpillFile | null = null;

  /**
   * Bodies longer than `overflow` bytes go to a temporary file. `expected` is
   * the announced length, or -1 when unknown (chunked).
   */
  constructor(overflow: number, expected = -1) {
    this.#overflow = overflow;
    this.#expected = expected;
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
    // Allocated at the first byte, not at the head: a head alone must not cost the body's memory.
    if (this.#length === 0 && this.#expected > 0 && this.#expected <= this.#overflow) {
      this.#whole ??= new Uint8Array(this.#expected);
    }
    const whole = this.#whole;
    if (whole !== null && this.#length + chunk.length <= whole.length) {
      whole.set(chunk, this.#length);
      this.#length += chunk.length;
      return;
    }
    if (whole !== null) this.#unwhole(); // more than announced: the receivers never do this, but stay correct
    this.#length += chunk.length;
    // Opened at the first byte, not at the head: a head alone must not cost a descriptor.
    if (this.#file === null && this.#expected > this.#overflow) this.#file = new SpillFile();
    if (this.#file) {
      this.#file.append(chunk);
      return;
    }
    // A real copy: `slice()` on a node:buffer Buffer (what Node and Bun sockets deliver) is only a view.
    this.#chunks.push(new Uint8Array(chunk));
    if (this.#length > this.#overflow) this.#spill();
  }

  #unwhole(): void {
    this.#chunks = [this.#whole!.subarray(0, this.#length)];
    this.#whole = null;
  }

  #spill(): void {
    const file = new SpillFile();
    for (const c of this.#chunks) file.append(c);
    this.#chunks = [];
    this.#file = file;
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
    if (this.#file) return this.#file.readAt(0, this.#length);
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

  /** A fresh stream over the body, read in 64 KiB pieces from memory or the file; `onRead` runs at the first pull. */
  stream(onRead?: () => void): ReadableStream<Uint8Array> {
    let position = 0;
    let index = 0;
    return new ReadableStream<Uint8Array>({
      pull: (controller) => {
        onRead?.();
        if (this.#file || this.#whole) {
          if (position >= this.#length) return controller.close();
          const size = Math.min(READ_CHUNK, this.#length - position);
          // Copies: the application may transfer or mutate what it reads.
          const chunk = this.#file ? this.#file.readAt(position, size) : this.#whole!.slice(position, position + size);
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
