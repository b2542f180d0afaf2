/**
 * Request body decoders: a fixed-length receiver (Content-Length) and a
 * strict, incremental `chunked` decoder (RFC 9112 section 7.1). Both are pure:
 * they take bytes and put decoded body bytes into a {@link BodySink}.
 *
 * @module
 */
import { badRequest, bodyTooLarge, type HttpError } from "./errors.ts";
import { CR, decodeLatin1, HEX_VALUES, isChunkExtensions, isFieldLine, LF } from "./grammar.ts";

/** Where a receiver puts decoded body bytes. append() must COPY what it keeps: the chunk is a view of a transient read buffer. */
export interface BodySink {
  /** Stores a copy of `chunk` (the caller reuses the underlying buffer). */
  append(chunk: Uint8Array): void;
  /** Number of body bytes stored so far. */
  readonly length: number;
}

/** Limits a {@link ChunkedReceiver} enforces. */
export interface ChunkedLimits {
  /** Largest decoded body accepted; one byte more is a 413. */
  maxBodySize: number;
  /** Budget for framing overhead (chunk extensions, over-long size lines, trailers); beyond it, 400. */
  maxFramingSize: number;
}

const SEMI = 59;

/**
 * Receives a body of a declared Content-Length. The parser has already
 * checked the length against the body limit, so this receiver cannot fail.
 */
export class FixedLengthReceiver {
  #remaining: number;
  #sink: BodySink;

  /** `length` is the declared Content-Length; 0 completes at once. */
  constructor(length: number, sink: BodySink) {
    this.#remaining = length;
    this.#sink = sink;
  }

  /** Takes body bytes from `data`; returns how many were consumed (the rest belongs to the next request). */
  received(data: Uint8Array): number {
    const take = Math.min(this.#remaining, data.length);
    if (take === 0) return 0;
    this.#sink.append(take === data.length ? data : data.subarray(0, take));
    this.#remaining -= take;
    return take;
  }

  /** True once the declared number of bytes has arrived. */
  get completed(): boolean {
    return this.#remaining === 0;
  }

  /** Always null: a fixed-length body has no framing that could be wrong. */
  get error(): HttpError | null {
    return null;
  }
}

// States of the chunked decoder.
const SIZE_LINE: number = 0;
const DATA: number = 1;
const DATA_CR: number = 2;
const DATA_LF: number = 3;
const TRAILER_LINE: number = 4;
const DONE: number = 5;

/**
 * Bytes of a size line that cost nothing against the framing budget: 16 hex
 * digits (a 64-bit size) plus CRLF. A client that sends many small chunks
 * without extensions is therefore never limited by the budget; only
 * extensions, padded sizes and trailers spend it.
 */
const FREE_SIZE_LINE_BYTES = 18;

/**
 * Significant hex digits beyond which a chunk size exceeds 2^52 and so any
 * body limit; counting stops there so that huge sizes cannot lose precision
 * and wrap into acceptance.
 */
const MAX_SIGNIFICANT_HEX_DIGITS = 13;

/**
 * Decodes `Transfer-Encoding: chunked` (RFC 9112 section 7.1) strictly:
 *
 * - chunk-size is 1*HEXDIG, directly followed by ";" or CRLF (no whitespace
 *   after the size, as in waitress: `5 ;x` is "Invalid chunk size");
 * - chunk-ext is `*( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )`;
 * - every line ends in CRLF, chunk data is followed by exactly CRLF;
 * - trailer fields after the last chunk are validated like header lines and
 *   discarded;
 * - decoded bytes over `maxBodySize` give 413 as soon as a size line announces
 *   them; framing overhead over `maxFramingSize` gives 400 at the first byte
 *   over the budget.
 *
 * Errors are detected at the same byte whatever way the input is split, so
 * the consumed count and the error do not depend on packet boundaries.
 */
export class ChunkedReceiver {
  #sink: BodySink;
  #maxBodySize: number;
  #maxFramingSize: number;
  #state: number = SIZE_LINE;
  #remaining = 0;
  #bodyLength = 0;
  #framing = 0;
  #line: Uint8Array = new Uint8Array(0);
  #lineLength = 0;
  #error: HttpError | null = null;

  /** `limits.maxFramingSize` is normally the server's max request header size. */
  constructor(sink: BodySink, limits: ChunkedLimits) {
    this.#sink = sink;
    this.#maxBodySize = limits.maxBodySize;
    this.#maxFramingSize = limits.maxFramingSize;
  }

  /** True once the last chunk and the trailer section were received, or an error was found. */
  get completed(): boolean {
    return this.#state === DONE;
  }

  /** The framing error, if any. */
  get error(): HttpError | null {
    return this.#error;
  }

  /** Decodes bytes; returns how many were consumed (fewer than given once complete or failed). */
  received(data: Uint8Array): number {
    let pos = 0;
    const n = data.length;
    while (pos < n && this.#state !== DONE) {
      switch (this.#state) {
        case DATA:
          pos = this.#receiveData(data, pos);
          break;
        case DATA_CR:
          pos = this.#expectByte(data, pos, CR, DATA_LF);
          break;
        case DATA_LF:
          pos = this.#expectByte(data, pos, LF, SIZE_LINE);
          break;
        default:
          pos = this.#receiveLine(data, pos);
      }
    }
    return pos;
  }

  #fail(error: HttpError, consumed: number): number {
    this.#error = error;
    this.#state = DONE;
    return consumed;
  }

  #receiveData(data: Uint8Array, pos: number): number {
    const take = Math.min(this.#remaining, data.length - pos);
    this.#sink.append(data.subarray(pos, pos + take));
    this.#remaining -= take;
    if (this.#remaining === 0) this.#state = DATA_CR;
    return pos + take;
  }

  /** The CRLF after chunk data (RFC 9112 section 7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF). */
  #expectByte(data: Uint8Array, pos: number, expected: number, next: number): number {
    if (data[pos] !== expected) return this.#fail(badRequest("Chunk not properly terminated", "1.1"), pos + 1);
    this.#state = next;
    return pos + 1;
  }

  /**
   * Collects one size line or trailer line up to its LF, charging the
   * framing budget as bytes arrive, then interprets it.
   */
  #receiveLine(data: Uint8Array, pos: number): number {
    const lf = data.indexOf(LF, pos);
    const end = lf === -1 ? data.length : lf + 1;
    const overBudgetAt = this.#charge(pos, end - pos);
    if (overBudgetAt !== -1) {
      return this.#fail(badRequest(`Chunked framing exceeds ${this.#maxFramingSize} bytes`, "1.1"), overBudgetAt);
    }
    if (lf === -1 || this.#lineLength > 0) this.#bufferLine(data, pos, end);
    if (lf === -1) return end;
    let line: Uint8Array;
    let length: number;
    if (this.#lineLength > 0) {
      line = this.#line;
      length = this.#lineLength;
      this.#lineLength = 0;
    } else {
      line = data.subarray(pos, end);
      length = end - pos;
    }
    if (length < 2 || line[length - 2] !== CR) {
      return this.#fail(badRequest("Bare LF found in chunked framing", "1.1"), end);
    }
    const error = this.#state === SIZE_LINE ? this.#sizeLine(line, length - 2) : this.#trailerLine(line, length - 2);
    return error === null ? end : this.#fail(error, end);
  }

  /**
   * Spends the framing budget on `count` more bytes of the current line.
   * Returns -1 when within budget, else the consumed count that ends at the
   * first byte over it.
   */
  #charge(pos: number, count: number): number {
    const allowance = this.#state === SIZE_LINE ? FREE_SIZE_LINE_BYTES : 0;
    const free = Math.min(count, Math.max(0, allowance - this.#lineLength));
    const charged = count - free;
    if (this.#framing + charged > this.#maxFramingSize) {
      return pos + free + (this.#maxFramingSize - this.#framing) + 1;
    }
    this.#framing += charged;
    return -1;
  }

  #bufferLine(data: Uint8Array, pos: number, end: number): void {
    const needed = this.#lineLength + (end - pos);
    if (needed > this.#line.length) {
      const grown = new Uint8Array(Math.max(64, needed * 2));
      grown.set(this.#line.subarray(0, this.#lineLength));
      this.#line = grown;
    }
    this.#line.set(data.subarray(pos, end), this.#lineLength);
    this.#lineLength = needed;
  }

  /** `chunk-size [ chunk-ext ]` (the CRLF already removed); sets up the next state. */
  #sizeLine(line: Uint8Array, end: number): HttpError | null {
    let i = 0;
    let size = 0;
    let significant = 0;
    for (; i < end; i++) {
      const digit = HEX_VALUES[line[i]];
      if (digit < 0) break;
      if (significant > 0 || digit !== 0) significant++;
      if (significant <= MAX_SIGNIFICANT_HEX_DIGITS) size = size * 16 + digit;
    }
    if (i === 0 || (i < end && line[i] !== SEMI)) return badRequest("Invalid chunk size", "1.1");
    if (i < end && !isChunkExtensions(decodeLatin1(line, i, end), 0, end - i)) {
      return badRequest("Invalid chunk extension", "1.1");
    }
    if (significant > MAX_SIGNIFICANT_HEX_DIGITS) size = Infinity;
    if (this.#bodyLength + size > this.#maxBodySize) return bodyTooLarge(this.#maxBodySize, "1.1");
    if (size === 0) {
      this.#state = TRAILER_LINE;
    } else {
      this.#bodyLength += size;
      this.#remaining = size;
      this.#state = DATA;
    }
    return null;
  }

  /** One trailer field line (validated as a header line, then dropped), or the empty line that ends the body. */
  #trailerLine(line: Uint8Array, end: number): HttpError | null {
    if (end === 0) {
      this.#state = DONE;
      return null;
    }
    return isFieldLine(decodeLatin1(line, 0, end), 0, end) ? null : badRequest("Invalid trailer field", "1.1");
  }
}
