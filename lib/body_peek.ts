/**
 * Reading a body stream a few microtask turns ahead (the response writer's
 * peek): watching a read without awaiting it, reading on while chunks are
 * ready at once, and the chunk kinds a body stream may carry.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { describeKind, utf8 } from "./utilities.ts";

/** Microtask turns the peek waits for each read after a body's first before choosing chunked framing. */
export const PEEK_TICKS = 4;

/** Reads after the second that the peek makes at most, looking for the end of a body of unknown length. */
const PEEK_READS = 16;

/**
 * Microtask turns the first read of a body gets before the head goes out without it. Plain bodies
 * (strings, bytes, streams that enqueue at once) settle within 1 to 5 on every runtime.
 */
export const FIRST_READ_TICKS = 16;

/**
 * Watches a read: its result once it settled, its failure if it failed. Callers give it a few microtask
 * turns with plain awaits (`for (...; watch.pending; ...) await null`): this runs for every plain
 * Response, so no Promise.race, no promise per turn and no async call of its own.
 */
export class ReadWatch {
  result: ReadableStreamReadResult<unknown> | undefined = undefined;
  failed = false;
  failure: unknown = undefined;
  readonly #onResult = (r: ReadableStreamReadResult<unknown>): void => void (this.result = r);
  readonly #onFailure = (e: unknown): void => void (this.failed = true, this.failure = e);
  constructor(read: Promise<ReadableStreamReadResult<unknown>>) {
    read.then(this.#onResult, this.#onFailure);
  }
  /**
   * Watches the reader's next read instead (one watch and its two callbacks per body, not per read).
   * Only once the read watched before has settled, so that its result cannot land on this one.
   */
  watch(read: Promise<ReadableStreamReadResult<unknown>>): void {
    this.result = undefined;
    read.then(this.#onResult, this.#onFailure);
  }
  get pending(): boolean {
    return this.result === undefined && !this.failed;
  }
  /** The result, or undefined while pending. A read that failed throws, so the response fails before its head. */
  settled(): ReadableStreamReadResult<unknown> | undefined {
    if (this.failed) throw this.failure;
    return this.result;
  }
}

/** A body chunk as bytes (a view of the same memory where it is one); text as UTF-8. */
export function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  // Elysia's generators and server-sent events put strings into the stream; Bun.serve and
  // @hono/node-server send them as UTF-8, and so do we.
  if (typeof value === "string") return utf8(value);
  throw new TypeError(`Response body chunks must be bytes (Uint8Array) or text, got ${describeKind(value)}`);
}

/** A read not settled yet, boxed: an async function cannot return a bare promise without awaiting it. */
export interface PendingRead {
  read: Promise<ReadableStreamReadResult<unknown>>;
}

/**
 * Reads on after a body's second read (`pending`, already given PEEK_TICKS turns) while each read
 * settles within a few microtask turns, collecting the chunks, so that a body whose size was known
 * when the Response was made (a string, bytes, a Blob) gets a Content-Length on every runtime,
 * however the runtime's stream cuts it: Bun hands a body over as 16 KiB, then pieces of up to 2 MiB,
 * and Node ends a Blob's stream only in a later event-loop turn, so one such turn is allowed, once.
 * A body still being produced is not waited for beyond that, and once `limit` bytes are held (the
 * output's high watermark, what streaming would have read ahead anyway) one more read only looks for
 * the end. Returns the read still pending, or null at the body's end.
 */
export async function readReady(
  reader: ReadableStreamDefaultReader<unknown>,
  chunks: Uint8Array[],
  size: number,
  limit: number,
  pending: Promise<ReadableStreamReadResult<unknown>>,
  watch: ReadWatch,
): Promise<PendingRead | null> {
  let turnLeft = true;
  for (let reads = 0;; reads++) {
    if (watch.pending && turnLeft) {
      turnLeft = false;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const r = watch.settled();
    if (r === undefined) return { read: pending };
    if (r.done) return null;
    const chunk = asBytes(r.value);
    chunks.push(chunk);
    pending = reader.read();
    if (reads === PEEK_READS || size >= limit) return { read: pending };
    size += chunk.length;
    watch.watch(pending);
    for (let tick = 0; tick < PEEK_TICKS && watch.pending; tick++) await null;
  }
}
