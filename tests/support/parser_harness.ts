/**
 * The parser stream harness: feeds bytes to a succession of RequestParsers
 * the way lib/channel.ts does (a completed parser hands the rest of the read
 * to a new one; an error stops the stream), cut into reads at chosen
 * offsets, and records what each parser ended with. The parser tests and the
 * fuzz properties compare these outcomes.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type BodySink, type HttpError, type ParserLimits, type RequestHead, RequestParser } from "../../lib/parser.ts";
import { concatBytes, toLatin1 } from "./bytes.ts";

/** A sink that keeps copies, as the BodySink contract requires (tests/parser.test.ts uses it too). */
export class ArraySink implements BodySink {
  chunks: Uint8Array[] = [];
  length = 0;
  append(chunk: Uint8Array): void {
    // Not chunk.slice(): on a node:buffer Buffer that is a view, not a copy.
    this.chunks.push(new Uint8Array(chunk));
    this.length += chunk.length;
  }
  bytes(): Uint8Array {
    return concatBytes(this.chunks);
  }
}

// ---------------------------------------------------------------------------
// The stream harness: feeds bytes the way lib/channel.ts does
// ---------------------------------------------------------------------------

/** What a parser ended with (or was left at), in a form `deepEqual` can compare. */
export interface ParserOutcome {
  consumed: number;
  completed: boolean;
  headersComplete: boolean;
  empty: boolean;
  error: HttpError | null;
  head: RequestHead | null;
  /** Body bytes as latin-1 text, or null when the parser made no sink. */
  body: string | null;
}

/** What one parser of a stream ended with (or was left at, for the last, incomplete one). */
export interface RequestOutcome extends ParserOutcome {
  /** Offset of this request's first byte in the stream. */
  start: number;
}

/** Everything a stream produced, in order; the last entry may be incomplete. */
export interface StreamOutcome {
  requests: RequestOutcome[];
  /** Bytes taken from the stream (the channel stops reading after an error). */
  consumed: number;
  /** Longest single received() call, in ms (for the no-hang property). */
  maxCallMs: number;
}

/** How the bytes are delivered. */
export interface Delivery {
  /** Offsets where the stream is cut into separate reads. */
  cuts: number[];
  /** Deliver node:buffer Buffers (the Node/Bun socket type) rather than plain Uint8Arrays. */
  asBuffer: boolean;
  /** Deliver each read in one reused buffer that is scribbled over after the call (a transient read buffer). */
  scratch: boolean;
}

/** The whole stream in one read. */
export const WHOLE: Delivery = { cuts: [], asBuffer: false, scratch: false };

/** Violations found by the harness itself (contract of received()). */
export class PropertyViolation extends Error {}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new PropertyViolation(message);
}

/** What `parser` saw after `consumed` bytes; its body must be an ArraySink (tests/parser.test.ts uses it too). */
export function parserOutcome(parser: RequestParser, consumed: number): ParserOutcome {
  const body = parser.body;
  return {
    consumed,
    completed: parser.completed,
    headersComplete: parser.headersComplete,
    empty: parser.empty,
    error: parser.error,
    head: parser.head,
    body: body === null ? null : toLatin1((body as ArraySink).bytes()),
  };
}

function snapshot(parser: RequestParser, start: number, consumed: number): RequestOutcome {
  return { start, ...parserOutcome(parser, consumed) };
}

/**
 * Feeds `data` cut at `delivery.cuts` to a succession of parsers, as the
 * channel does: a completed parser hands the rest of the read to a new one;
 * an error stops the stream. Checks the received() contract as it goes.
 */
export function runStream(data: Uint8Array, limits: ParserLimits, delivery: Delivery = WHOLE): StreamOutcome {
  const cuts = [...new Set(delivery.cuts.filter((c) => c > 0 && c < data.length))].sort((a, b) => a - b);
  const bounds = [0, ...cuts, data.length];
  const scratch = delivery.scratch ? new Uint8Array(data.length) : null;
  const requests: RequestOutcome[] = [];
  let parser: RequestParser | null = null;
  let start = 0;
  let consumed = 0;
  let total = 0;
  let maxCallMs = 0;
  let steps = 0;
  outer: for (let k = 0; k + 1 < bounds.length; k++) {
    const original = data.subarray(bounds[k], bounds[k + 1]);
    let piece: Uint8Array = original;
    if (scratch !== null) {
      scratch.set(original);
      piece = scratch.subarray(0, original.length);
    }
    if (delivery.asBuffer) piece = Buffer.from(piece.buffer, piece.byteOffset, piece.length);
    let offset = 0;
    while (offset < piece.length) {
      check(++steps <= data.length + 2 * bounds.length + 2, "the stream makes no progress");
      if (parser === null) {
        parser = new RequestParser(limits, () => new ArraySink());
        start = total;
        consumed = 0;
      }
      const view = offset === 0 ? piece : piece.subarray(offset);
      const t0 = performance.now();
      const used = parser.received(view);
      const ms = performance.now() - t0;
      if (ms > maxCallMs) maxCallMs = ms;
      check(Number.isInteger(used) && used >= 0 && used <= view.length, `received() returned ${used}`);
      offset += used;
      consumed += used;
      total += used;
      if (parser.completed) {
        if (used < view.length) {
          check(parser.received(view.subarray(used)) === 0, "a completed parser consumed more bytes");
        }
        requests.push(snapshot(parser, start, consumed));
        const failed = parser.error !== null;
        check(failed || parser.head !== null, "completed without head or error");
        parser = null;
        if (failed) break outer;
      } else {
        check(used === view.length, "an incomplete parser left bytes behind");
        check(parser.error === null, "error set on an incomplete parser");
      }
    }
    if (scratch !== null) scratch.fill(0xa5);
  }
  if (parser !== null) requests.push(snapshot(parser, start, consumed));
  return { requests, consumed: total, maxCallMs };
}

/** The outcome without timing, for comparisons between deliveries. */
export function comparable(out: StreamOutcome): { requests: RequestOutcome[]; consumed: number } {
  return { requests: out.requests, consumed: out.consumed };
}
