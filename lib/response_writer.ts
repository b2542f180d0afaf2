/**
 * The response side of a task (waitress's Task.write and finish): decides the
 * framing (Content-Length, chunked, or close-delimited), writes the head and
 * pumps the body into a sink with back-pressure, and writes error responses.
 *
 * @module
 */
import type { Logger } from "./logger.ts";
import { FastResponse } from "./response.ts";
import {
  addAppHeader,
  addImpliedType,
  type AppHeaders,
  collectHeaders,
  declaredLength,
  errorResponseBytes,
  type Framing,
  hasCloseToken,
  IMPLIED_TYPE_HIDDEN,
  newAppHeaders,
  serializeHead,
} from "./response_head.ts";
import { freshBytes } from "./byte_slab.ts";
import { asBytes, FIRST_READ_TICKS, PEEK_TICKS, readReady, ReadWatch } from "./body_peek.ts";
import { latin1Bytes, putChars, putLatin1, utf8 } from "./utilities.ts";

/** Where response bytes go (a connection's output). */
export interface ResponseSink {
  /** The connection is gone: nothing more is sent. */
  readonly closed: boolean;
  /** The writer should wait for room before producing more. */
  readonly congested: boolean;
  /** Pending bytes above which the sink is congested: what a body may be read ahead by. */
  readonly highWatermark: number;
  /** `writeParts` sends pieces without copying them (see Connection.gathersWrites). */
  readonly gathersWrites: boolean;
  /** Queues bytes, sent in order; the caller does not change them afterwards. */
  write(bytes: Uint8Array): void;
  /** Queues pieces that go out together, in order. */
  writeParts(parts: readonly Uint8Array[]): void;
  /** Resolves once the sink is no longer congested, or closed. */
  waitForRoom(): Promise<void>;
}

/** What the writer reads of the request being answered. */
export interface ResponseRequest {
  readonly method: string;
  readonly version: "1.0" | "1.1";
  /** The request allows the connection to stay open (its version and Connection header). */
  readonly keepAlive: boolean;
  /** For log lines. */
  readonly target: string;
}

/** One response being written: where it goes, what it answers, and how far it got. */
export interface ResponseJob {
  readonly out: ResponseSink;
  readonly head: ResponseRequest;
  /** The server's `ident` (the Server header). */
  readonly ident: string;
  readonly logger: Logger;
  /** Set by the writer once the head is written: a failure after that cannot become an error page. */
  headWritten: boolean;
  /** Body bytes handed to the sink so far (framing not counted), for the access log. */
  bodySent: number;
}

const CRLF = utf8("\r\n");
const LAST_CHUNK = utf8("0\r\n\r\n");
/** Chunks up to this size are framed into one buffer (one write); larger ones are written in three pieces. */
const SMALL_CHUNK = 16 * 1024;
/** The same where the sink gathers pieces without copying (see copyLimit). */
const GATHERED_COPY_LIMIT = 1024;

/**
 * Writes the response: head, then body with the framing the request and
 * response allow. `mustClose`: the connection closes after this response
 * whatever the request says. Gives whether the connection must close
 * afterwards: at once (a boolean) when the response had no body stream to
 * read, else through a promise; throws or rejects when the response cannot
 * be sent (the job's `headWritten` says whether any of it went out).
 */
export function writeResponse(job: ResponseJob, response: Response, mustClose: boolean): boolean | Promise<boolean> {
  const status = response.status;
  // Only Response.error() gets here (status 0, a network error): it has no HTTP form to send.
  if (status < 200 || status > 599) throw new TypeError(`The handler returned a Response with status ${status}`);
  // A FastResponse with a string or bytes body is written without a stream.
  const staticBody = response instanceof FastResponse ? FastResponse.staticBody(response) : undefined;
  // The body before the headers: srvx's NodeResponse (h3 on Node) builds its real Response, and with it
  // the Content-Type a string body implies, only once its body is asked for.
  const stream = staticBody === undefined ? response.body : null;
  const app = staticBody === undefined ? collectHeaders(response.headers) : fastHeaders(response as FastResponse);
  const declared = declaredLength(app.contentLength);
  if (Number.isNaN(declared)) throw new TypeError(`Invalid Content-Length ${app.contentLength}`);
  const bodyless = status === 204 || status === 304;
  if (bodyless) stream?.cancel().catch(() => {});
  const close = mustClose || !job.head.keepAlive || hasCloseToken(app.connection);
  if (bodyless || stream === null) {
    return writeWhole(job, response, app, declared, close, bodyless ? null : staticBody ?? null);
  }
  return writeStreamed(job, response, app, declared, close, stream.getReader());
}

/** A FastResponse's headers, read without a Headers object where its init allows. */
function fastHeaders(response: FastResponse): AppHeaders {
  const app = newAppHeaders();
  return FastResponse.eachHeader(response, addAppHeader, app) ? app : collectHeaders(response.headers);
}

/**
 * Writes a response whose whole body is at hand (`body`: bytes, a short ASCII string, or null for none) or
 * that sends none (204, 304), without a stream; returns whether to close.
 */
function writeWhole(
  job: ResponseJob,
  response: Response,
  app: AppHeaders,
  declared: number,
  close: boolean,
  body: Uint8Array | string | null,
): boolean {
  const head = job.head;
  const status = response.status;
  const bodyless = status === 204 || status === 304;
  const sendBody = !bodyless && head.method !== "HEAD";
  const size = body === null ? 0 : body.length;
  let length = bodyless ? (status === 304 ? declared : -1) : declared >= 0 ? declared : size;
  // RFC 9110 9.3.2 and 8.6: a HEAD answer's Content-Length, when sent, is the one GET would send. A HEAD
  // response without a body (Hono and h3 strip it) does not say what that is: no length, no framing.
  if (!bodyless && !sendBody && declared < 0 && size === 0) length = -1;
  return sendAtHand(job, response, app, { length, chunked: false, close, sendBody }, body);
}

/**
 * Writes the head and a body at hand (cut to the framing's length; a string is short ASCII, one byte per
 * character), in one write unless the body is large; returns whether to close.
 */
function sendAtHand(
  job: ResponseJob,
  response: Response,
  app: AppHeaders,
  framing: Framing,
  body: Uint8Array | string | null,
): boolean {
  const out = job.out;
  const { length, sendBody, close } = framing;
  const size = body === null || !sendBody ? 0 : body.length;
  let sent = size;
  if (size > 0 && size > length) {
    longBody(job, length);
    sent = length;
  }
  // A large body goes as a piece of its own after the head; anything else is copied in behind it.
  const apart = sent > 0 && typeof body !== "string" && sent > copyLimit(out);
  const bytes = serializeHead(job.head.version, response, app, framing, job.ident, apart ? 0 : sent);
  job.headWritten = true;
  if (apart) out.writeParts([bytes, body!.subarray(0, sent)]);
  else {
    if (sent > 0) {
      const at = bytes.length - sent;
      if (typeof body === "string") putChars(sent < size ? body.slice(0, sent) : body, bytes, at);
      else bytes.set(sent < size ? body!.subarray(0, sent) : body!, at);
    }
    out.write(bytes);
  }
  job.bodySent = sent;
  return sendBody && sent < length ? shortBody(job, sent, length) : close;
}

/** Reads the body stream and writes the response (the peek decides its framing); resolves to whether to close. */
async function writeStreamed(
  job: ResponseJob,
  response: Response,
  app: AppHeaders,
  declared: number,
  close: boolean,
  reader: ReadableStreamDefaultReader<unknown>,
): Promise<boolean> {
  const out = job.out;
  const head = job.head;
  const sendBody = head.method !== "HEAD";
  let length = declared;
  let first: Uint8Array | null = null;
  /** Chunks after the first that the peek read (rare: most bodies end after their first). */
  let more: Uint8Array[] | null = null;
  let next: Promise<ReadableStreamReadResult<unknown>> | null = null;

  if (length < 0) {
    // Peek: a body that ends within the chunks ready at once gets a Content-Length instead of chunking. A first
    // chunk that is not there within a few microtask turns (server-sent events, a file) is not waited
    // for: the head goes out at once, so the client sees the status before the first event.
    const pending1 = reader.read();
    const watch = new ReadWatch(pending1);
    for (let tick = 0; tick < FIRST_READ_TICKS && watch.pending; tick++) await null;
    const r1 = watch.settled();
    if (r1 === undefined) next = pending1;
    else if (r1.done) length = 0;
    else {
      // Does the body end within the chunks that are ready at once?
      first = asBytes(r1.value);
      const pending2 = reader.read();
      watch.watch(pending2);
      for (let tick = 0; tick < PEEK_TICKS && watch.pending; tick++) await null;
      const r2 = watch.settled();
      // Most bodies end right after their first chunk; others are read on while chunks are ready at once.
      if (r2 !== undefined && r2.done) length = first.length;
      else {
        more = [];
        const rest = await readReady(reader, more, first.length, out.highWatermark, pending2, watch);
        if (rest !== null) next = rest.read;
        else length = more.reduce((n, chunk) => n + chunk.length, first.length);
      }
    }
  }
  // As in writeWhole: a HEAD response with an empty body and no declared length is sent unframed.
  const unframed = !sendBody && declared < 0 && length === 0 && first === null;
  if (unframed) length = -1;
  const chunked = !unframed && length < 0 && head.version === "1.1";
  // HTTP/1.0 keeps the connection only with a known length; unknown length is close-delimited.
  if (head.version === "1.0" && length < 0 && !unframed) close = true;
  // Bun: a body that is not still streaming (as a string body is not) gets the type Bun.serve would add.
  if (IMPLIED_TYPE_HIDDEN && next === null && (first !== null || declared > 0)) addImpliedType(app);
  const framing: Framing = { length, chunked, close, sendBody };
  // The peek read the whole body in one chunk (most bodies): written with the head at once, as a body at hand is.
  if (sendBody && first !== null && more === null && next === null) {
    return sendAtHand(job, response, app, framing, first) || out.closed;
  }
  const headBytes = serializeHead(head.version, response, app, framing, job.ident);
  job.headWritten = true;
  if (!sendBody) {
    out.write(headBytes);
    reader.cancel().catch(() => {});
    return framing.close;
  }
  return await streamBody(job, reader, headBytes, framing, first, more, next);
}

/** Sends the body chunks with back-pressure; returns whether to close. */
async function streamBody(
  job: ResponseJob,
  reader: ReadableStreamDefaultReader<unknown>,
  headBytes: Uint8Array,
  framing: Framing,
  first: Uint8Array | null,
  more: readonly Uint8Array[] | null,
  next: Promise<ReadableStreamReadResult<unknown>> | null,
): Promise<boolean> {
  const out = job.out;
  const limit = framing.length;
  let sent = 0;
  let head: Uint8Array | null = headBytes;
  let done = false;
  const emit = (chunk: Uint8Array): void => {
    if (limit >= 0 && sent + chunk.length > limit) {
      longBody(job, limit);
      chunk = chunk.subarray(0, limit - sent);
    }
    if (chunk.length === 0) return;
    sent += chunk.length;
    job.bodySent = sent;
    if (framing.chunked) writeChunk(out, chunk, head);
    else if (head !== null) writeWithHead(out, head, chunk);
    else out.write(chunk);
    head = null;
  };
  try {
    if (first !== null) emit(first);
    if (more !== null) { for (const chunk of more) emit(chunk); }
    // The peek sets `first` (a declared length skips it) and leaves `next` null when it saw the end.
    if (first !== null && next === null) {
      done = true; // The peek saw the whole body.
    } else {
      let result = next ?? reader.read();
      // No chunk yet, and none within a few turns (server-sent events, a slow source; the peek has
      // already waited when `next` is its read): the head goes out now, so the client sees the status.
      if (head !== null && first === null) {
        let late = next !== null;
        if (!late) {
          const watch = new ReadWatch(result);
          for (let tick = 0; tick < FIRST_READ_TICKS && watch.pending; tick++) await null;
          late = watch.settled() === undefined;
        }
        if (late) {
          out.write(head);
          head = null;
        }
      }
      for (;;) {
        const r = await result;
        if (r.done) {
          done = true;
          break;
        }
        if (out.closed) break;
        emit(asBytes(r.value));
        if (limit >= 0 && sent >= limit) break;
        if (out.congested) await out.waitForRoom();
        if (out.closed) break;
        result = reader.read();
      }
    }
  } finally {
    // Only a stream we stopped early needs cancelling. No releaseLock(): the stream is
    // dropped anyway, and releasing costs a TypeError with a stack on some runtimes.
    if (!done) reader.cancel().catch(() => {});
  }
  if (head !== null) out.write(head);
  if (out.closed) return true;
  if (framing.chunked) {
    out.write(LAST_CHUNK);
    return framing.close;
  }
  if (limit >= 0 && sent < limit) return shortBody(job, sent, limit);
  return framing.close;
}

/**
 * A body longer than its declared length: cut there and logged, as waitress logs it; the response is
 * complete as framed, so the connection may stay open.
 */
function longBody(job: ResponseJob, declared: number): void {
  job.logger.warn(
    `Application-written content exceeded the ${declared} bytes of its Content-Length for ${job.head.target}`,
  );
}

/** A body shorter than its declared length: logged, and the connection must close (the client must not wait). */
function shortBody(job: ResponseJob, sent: number, declared: number): true {
  job.logger.warn(`Application returned ${sent} of ${declared} declared bytes for ${job.head.target}`);
  return true;
}

/**
 * Body chunks up to this size are copied next to their framing, so head,
 * framing and data leave in one write. Where the sink gathers pieces
 * without copying (`gathersWrites`), only tiny chunks are worth a copy: a
 * fresh 16 KiB array per chunk of a streamed response churns the allocator.
 */
function copyLimit(out: ResponseSink): number {
  return out.gathersWrites ? GATHERED_COPY_LIMIT : SMALL_CHUNK;
}

/** Head and first body chunk in one write; a large chunk is sent as it is, after the head. */
function writeWithHead(out: ResponseSink, head: Uint8Array, chunk: Uint8Array): void {
  if (chunk.length > copyLimit(out)) {
    out.writeParts([head, chunk]);
    return;
  }
  const bytes = freshBytes(head.length + chunk.length);
  bytes.set(head, 0);
  bytes.set(chunk, head.length);
  out.write(bytes);
}

/** Writes one chunk of a chunked body: `<HEX>\r\n<data>\r\n`, prefixed by the head when it has not gone yet. */
function writeChunk(out: ResponseSink, chunk: Uint8Array, head: Uint8Array | null): void {
  const prefix = chunk.length.toString(16).toUpperCase() + "\r\n";
  if (chunk.length > copyLimit(out)) {
    const parts = [latin1Bytes(prefix), chunk, CRLF];
    out.writeParts(head === null ? parts : [head, ...parts]);
    return;
  }
  const headLength = head === null ? 0 : head.length;
  const bytes = freshBytes(headLength + prefix.length + chunk.length + 2);
  if (head !== null) bytes.set(head, 0);
  const offset = putLatin1(prefix, bytes, headLength);
  bytes.set(chunk, offset);
  bytes[bytes.length - 2] = 13;
  bytes[bytes.length - 1] = 10;
  out.write(bytes);
}

/** Writes waitress's error response (the connection must close after it); returns the length of its body. */
export function writeErrorResponse(
  out: Pick<ResponseSink, "write">,
  ident: string,
  status: number,
  reason: string,
  detail: string,
  version: "1.0" | "1.1",
  extraHeaders = "",
): number {
  const bytes = errorResponseBytes(status, reason, detail, version, ident, extraHeaders);
  out.write(bytes);
  let end = 3;
  while (end < bytes.length && !(bytes[end] === 10 && bytes[end - 1] === 13 && bytes[end - 2] === 10)) end++;
  return bytes.length - end - 1;
}
