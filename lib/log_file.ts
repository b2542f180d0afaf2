/**
 * A buffered, append-only line writer for the access log: `-` is standard
 * output, anything else a file opened for appending.
 *
 * Lines are encoded into one buffer as they come and written at least once
 * a second, when the next line would not fit in one write (64 KiB), and on
 * `close()` (and at process exit), so the request path never waits for a
 * write. Every write holds whole lines only, and a file is opened with
 * O_APPEND: several processes (workers) appending to one file never
 * interleave within a line. Writes to standard output stay within
 * PIPE_BUF (4 KiB), which a pipe keeps whole. `reopen()` is for logrotate
 * (SIGUSR1): the next line goes to a fresh file at the same path.
 *
 * @module
 */
import { closeSync, openSync, writeSync } from "node:fs";
import process from "node:process";
import { clearTimeout, setTimeout } from "node:timers";

/** How long a line may wait in memory. */
const FLUSH_MS = 1000;
/** A write to a file: whole lines up to this many bytes (an O_APPEND write of this size is not split). */
const FILE_WRITE = 64 * 1024;
/** A write to standard output: whole lines within PIPE_BUF, which a pipe never interleaves. */
const PIPE_WRITE = 4096;

const encoder = new TextEncoder();

/** The access log's destination. */
export class LogFile {
  /** The path given, `-` for standard output. */
  readonly path: string;
  #fd = -1;
  /**
   * Queued lines, already encoded: each line is turned into bytes once, as it is written, and never
   * joined into a larger string (joining costs a copy of every line, encoding the join another).
   */
  readonly #buffer: Uint8Array;
  #used = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #onExit = (): void => this.flush();

  /** Opens the file (creating it, appending to it); throws a clear error when it cannot. */
  constructor(path: string) {
    this.path = path;
    this.#open();
    this.#buffer = new Uint8Array(path === "-" ? PIPE_WRITE : FILE_WRITE);
    process.on("exit", this.#onExit);
  }

  #open(): void {
    if (this.path === "-") return;
    try {
      this.#fd = openSync(this.path, "a", 0o644);
    } catch (error) {
      throw new Error(`cannot open access log file ${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Queues one line (without its newline). */
  write(line: string): void {
    if (this.#closed) return;
    const buffer = this.#buffer;
    // A UTF-16 unit takes at most 3 bytes of UTF-8: room for that, or the queued lines go first.
    const room = line.length * 3 + 1;
    if (room > buffer.length - this.#used) {
      this.flush();
      if (room > buffer.length) {
        // Longer than one write holds whole: written on its own.
        this.#emit(encoder.encode(`${line}\n`));
        return;
      }
    }
    const at = this.#used;
    const end = at + encoder.encodeInto(line, at === 0 ? buffer : buffer.subarray(at)).written;
    buffer[end] = 10;
    this.#used = end + 1;
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, FLUSH_MS);
      this.#timer.unref();
    }
  }

  /** Writes every queued line now. A failing write is reported once on stderr; the lines are dropped. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const used = this.#used;
    if (used === 0) return;
    this.#used = 0;
    // Standard output may keep what it is given until later: it gets a copy.
    this.#emit(this.#fd < 0 ? this.#buffer.slice(0, used) : this.#buffer.subarray(0, used));
  }

  #emit(bytes: Uint8Array): void {
    try {
      if (this.#fd < 0) {
        process.stdout.write(bytes);
        return;
      }
      let off = 0;
      while (off < bytes.length) off += writeSync(this.#fd, bytes, off);
    } catch (error) {
      process.stderr.write(`access log ${this.path}: ${(error as Error).message}\n`);
    }
  }

  /** Flushes, then opens the path again (logrotate moved the old file away). */
  reopen(): void {
    if (this.#closed) return;
    this.flush();
    const old = this.#fd;
    this.#open();
    if (old >= 0) closeSync(old);
  }

  /** Flushes and closes; later lines are dropped. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    process.off("exit", this.#onExit);
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}
