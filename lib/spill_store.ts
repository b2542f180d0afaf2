/**
 * Where spilled bytes live: anonymous temporary files, and the in-memory heads
 * of spilled request bodies. Both are recycled for a short while, because
 * making them fresh per body costs more than the bytes they hold (figures in
 * bench/README.md, "Reused files" and "The spill's memory head").
 *
 * A temporary file is unlinked as soon as it is opened and only its
 * descriptor is kept, so nothing is left behind even if the process dies.
 *
 * @module
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clearTimeout, setTimeout } from "node:timers";

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

// A spilled request body keeps its first `overflow` bytes in memory, its head.
// A fresh array per body costs more than the file writes it saves, so released
// heads are kept too, up to a total size, for as long as idle files are. The
// application never sees a head, only copies of it.

/** Idle heads kept, all sizes together, in bytes. */
const POOL_HEAD_BYTES = 1024 * 1024;
let idleHeads: Array<{ head: Uint8Array; since: number }> = [];
let idleHeadBytes = 0;

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
  // Oldest first: files and heads are reused from the end.
  let keep = 0;
  while (keep < idleFiles.length && idleFiles[keep].since <= cutoff) closeQuietly(idleFiles[keep++].fd);
  idleFiles = idleFiles.slice(keep);
  keep = 0;
  while (keep < idleHeads.length && idleHeads[keep].since <= cutoff) idleHeadBytes -= idleHeads[keep++].head.length;
  idleHeads = idleHeads.slice(keep);
  if (idleFiles.length > 0 || idleHeads.length > 0) scheduleIdleSweep();
}

/** Closes the temporary files and drops the heads kept for reuse (at server close; also handy in tests). */
export function closeIdleTempFiles(): void {
  for (const f of idleFiles) closeQuietly(f.fd);
  idleFiles = [];
  idleHeads = [];
  idleHeadBytes = 0;
  if (idleSweep !== null) clearTimeout(idleSweep);
  idleSweep = null;
}

/** How many temporary files are kept for reuse right now. */
export function idleTempFileCount(): number {
  return idleFiles.length;
}

/** A temporary file written at the end and read from the front (or at any position). */
export class SpillFile {
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
    const done = this.readInto(out, 0, length, position);
    return done === length ? out : out.subarray(0, done);
  }
  /** Reads `length` bytes at `position` into `out` at `offset`; returns how many arrived (fewer only at the end). */
  readInto(out: Uint8Array, offset: number, length: number, position: number): number {
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
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

/** A head of `size` bytes for a spilled body: a kept one if there is one of that size (its old bytes are still in it). */
export function acquireHead(size: number): Uint8Array {
  for (let i = idleHeads.length - 1; i >= 0; i--) {
    const { head } = idleHeads[i];
    if (head.length !== size) continue;
    idleHeads.splice(i, 1);
    idleHeadBytes -= size;
    return head;
  }
  return new Uint8Array(size);
}

/** Gives a head back: kept for the next spilled body while the kept ones stay under the pool's size. */
export function releaseHead(head: Uint8Array): void {
  if (head.length === 0 || idleHeadBytes + head.length > POOL_HEAD_BYTES) return;
  idleHeads.push({ head, since: Date.now() });
  idleHeadBytes += head.length;
  if (idleSweep === null) scheduleIdleSweep();
}

/** How many heads are kept for reuse right now. */
export function idleHeadCount(): number {
  return idleHeads.length;
}
