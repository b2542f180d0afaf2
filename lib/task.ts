/**
 * One request's task (waitress's WSGITask and ErrorTask): build the request
 * object, call the application in a dispatcher slot, and serialise its
 * Response with HTTP/1.1 framing (Content-Length, chunked, or close) into
 * the channel's output.
 *
 * @module
 */
import type { Adjustments } from "./adjustments.ts";
import type { Channel, LossWatcher } from "./channel.ts";
import { authorityEnd, type RequestHead, type RequestParser } from "./parser.ts";
import { applyProxyHeaders } from "./proxy_headers.ts";
import { abortServerRequest, ServerRequest } from "./request.ts";
import { FastResponse } from "./response.ts";
import type { InputBuffer } from "./buffers.ts";
import type { Handler, RemoteAddr, ServeInfo } from "./types.ts";
import {
  checkedStatusText,
  currentHttpDate,
  describeError,
  errorBody,
  latin1Bytes,
  reasonPhrase,
  utf8,
} from "./utilities.ts";

/** Headers the application may not set: the engine owns the framing (RFC 9110 7.6.1 hop-by-hop). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-connection",
]);

const CRLF = utf8("\r\n");
const LAST_CHUNK = utf8("0\r\n\r\n");
/** Chunks up to this size are framed into one buffer (one write); larger ones are written in three pieces. */
const SMALL_CHUNK = 16 * 1024;

/** Builds the `info` argument lazily: `completed` is a promise only when someone asks for it. */
class TaskInfo implements ServeInfo {
  remoteAddr: RemoteAddr;
  urlPrefix: string;
  #completed: Promise<void> | null = null;
  #resolve: (() => void) | null = null;
  #reject: ((reason: unknown) => void) | null = null;
  #outcome: "pending" | "done" | "lost" = "pending";
  #reason: unknown = undefined;

  constructor(remoteAddr: RemoteAddr, urlPrefix: string) {
    this.remoteAddr = remoteAddr;
    this.urlPrefix = urlPrefix;
  }

  get completed(): Promise<void> {
    if (this.#completed === null) {
      if (this.#outcome === "done") this.#completed = Promise.resolve();
      else if (this.#outcome === "lost") this.#completed = Promise.reject(this.#reason);
      else {
        this.#completed = new Promise<void>((resolve, reject) => {
          this.#resolve = resolve;
          this.#reject = reject;
        });
      }
      // Nobody has to await it: an unobserved rejection must not crash the process.
      this.#completed.catch(() => {});
    }
    return this.#completed;
  }

  settle(lost: boolean, reason?: unknown): void {
    if (this.#outcome !== "pending") return;
    this.#outcome = lost ? "lost" : "done";
    this.#reason = reason;
    if (lost) this.#reject?.(reason);
    else this.#resolve?.();
  }
}

/** Starts serving a parsed request on `channel` (waits for a dispatcher slot). */
export function runTask(channel: Channel, parser: RequestParser): void {
  const task = new Task(channel, parser);
  channel.host.dispatcher.run(task.start);
}

/** Splits a request target into path and query, as waitress's split_uri does for our purposes. */
export function splitTarget(target: string): { authority: string | null; path: string; query: string } {
  // asterisk-form (OPTIONS *): "/*", as Deno.serve has it; a URL has no way to say "no path".
  if (target === "*") return { authority: null, path: "/*", query: "" };
  let rest = target;
  let authority: string | null = null;
  if (rest.charCodeAt(0) !== 47 /* / */) {
    const scheme = rest.indexOf("://");
    if (scheme > 0) {
      const start = scheme + 3;
      const end = authorityEnd(rest, start);
      authority = rest.slice(start, end);
      rest = rest.slice(end);
    } else {
      // authority-form (CONNECT host:port): no path.
      authority = rest;
      rest = "/";
    }
  }
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  let path = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q) : "";
  if (path === "") path = "/";
  // waitress collapses leading slashes: "//evil.example/x" must not read as a network path.
  if (path.charCodeAt(1) === 47) path = "/" + path.replace(/^\/+/, "");
  return { authority, path, query };
}

/** waitress's SCRIPT_NAME / PATH_INFO split: the path the app sees, with the prefix removed when it applies. */
export function stripPrefix(path: string, prefix: string): string {
  if (prefix === "" || prefix === "/") return path;
  if (path === prefix) return "/";
  if (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47) return path.slice(prefix.length);
  return path;
}

/** The request's own view of where it was sent. */
interface Origin {
  scheme: string;
  authority: string;
  remote: RemoteAddr;
  headers: string[];
}

class Task implements LossWatcher {
  readonly channel: Channel;
  readonly adj: Adjustments;
  readonly head: RequestHead;
  readonly body: InputBuffer | null;
  request: ServerRequest | null = null;
  info: TaskInfo | null = null;
  headWritten = false;
  finished = false;
  lost = false;
  #slotHeld = true;

  constructor(channel: Channel, parser: RequestParser) {
    this.channel = channel;
    this.adj = channel.host.adj;
    this.head = parser.head as RequestHead;
    this.body = parser.body as InputBuffer | null;
  }

  /** Runs in a dispatcher slot. An arrow so it can be queued without a wrapper closure. */
  start = (): void => {
    if (this.channel.closed) {
      this.#finish(true);
      return;
    }
    const split = splitTarget(this.head.target);
    let origin: Origin | string;
    try {
      origin = this.#origin(split.authority);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (typeof origin === "string") {
      writeErrorResponse(this.channel, 400, "Bad Request", origin, this.head.version);
      this.#finish(true);
      return;
    }
    const path = stripPrefix(split.path, this.adj.urlPrefix);
    const url = `${origin.scheme}://${origin.authority}${path}${split.query}`;
    const request = new ServerRequest(this.head.method, url, origin.headers, this.body);
    this.request = request;
    this.info = new TaskInfo(origin.remote, this.adj.urlPrefix);
    this.channel.watchLoss(this);
    let result: ReturnType<Handler>;
    try {
      result = this.channel.host.handler(request as unknown as Request, this.info);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (result !== null && typeof (result as Promise<Response>).then === "function") {
      (result as Promise<Response | FastResponse>).then((r) => this.#respond(r), (e) => this.#fail(e));
    } else {
      this.#respond(result as Response | FastResponse);
    }
  };

  /** Scheme, authority, peer and headers after trusted proxy headers; a string is a 400 message. */
  #origin(targetAuthority: string | null): Origin | string {
    const adj = this.adj;
    const head = this.head;
    // RFC 9112 3.2.2: the authority of an absolute-form target wins over Host. RFC 9112 3.3: without one, a Host
    // that is absent or empty gives way to the server's own name (an empty one would make "http:///path").
    const authority = targetAuthority ?? (head.host || adj.serverName);
    const remote = this.channel.remote;
    const headers = head.chunked ? dechunkedHeaders(head.headers, this.body?.length ?? 0) : head.headers;
    if (adj.trustedProxy === undefined && !adj.clearUntrustedProxyHeaders) {
      return { scheme: adj.urlScheme, authority, remote, headers };
    }
    const result = applyProxyHeaders(
      {
        remoteHost: remote.hostname,
        remotePort: remote.port,
        scheme: adj.urlScheme,
        host: authority,
        serverPort: this.channel.serverPort,
        headers,
      },
      adj,
      this.channel.host.logger,
    );
    if ("error" in result) {
      this.channel.host.logger.warn(result.warning);
      return result.error;
    }
    const moved = result.remoteHost !== remote.hostname || result.remotePort !== remote.port;
    return {
      scheme: result.scheme,
      authority: result.host,
      remote: moved ? { transport: remote.transport, hostname: result.remoteHost, port: result.remotePort } : remote,
      headers: result.headers,
    };
  }

  #respond(response: Response | FastResponse): void {
    if (this.finished) return;
    if (!(response instanceof Response)) {
      this.#fail(new TypeError(`The handler returned ${describeValue(response)} instead of a Response`));
      return;
    }
    if (this.channel.closed) {
      response.body?.cancel().catch(() => {});
      this.#finish(true);
      return;
    }
    writeResponse(this, response).then(
      (close) => this.#finish(close),
      (error) => this.#fail(error),
    );
  }

  /** The application failed: 500 if nothing was sent yet, else cut the connection (the body is incomplete). */
  #fail(error: unknown): void {
    if (this.finished) return;
    const host = this.channel.host;
    const where = this.head.target;
    if (this.lost) {
      this.#finish(true);
      return;
    }
    host.logger.error(`Exception while serving ${where}\n${describeError(error)}`);
    if (this.headWritten) {
      this.channel.destroy();
      this.#finish(true);
      return;
    }
    const detail = this.adj.exposeTracebacks
      ? describeError(error)
      : "The server encountered an unexpected internal server error";
    writeErrorResponse(this.channel, 500, "Internal Server Error", detail, this.head.version);
    this.#finish(true);
  }

  /** The client went away while this task was being served (Channel's LossWatcher). */
  connectionLost(reason: unknown): void {
    this.lost = true;
    if (this.adj.logSocketErrors && !this.finished) {
      this.channel.host.logger.info(`Client disconnected while serving ${this.head.target}`);
    }
    if (this.request !== null) abortServerRequest(this.request, reason);
    this.info?.settle(true, reason);
    // The client is gone: a handler that never settles must not keep its slot from others.
    this.#releaseSlot();
  }

  #releaseSlot(): void {
    if (!this.#slotHeld) return;
    this.#slotHeld = false;
    this.channel.host.dispatcher.release();
  }

  /** Response produced (or abandoned): free the slot and the body, let the channel go on. */
  #finish(close: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.channel.unwatchLoss(this);
    this.body?.dispose();
    const info = this.info;
    if (info !== null) {
      const channel = this.channel;
      if (this.lost || channel.closed) info.settle(true, connectionLost());
      else channel.whenFlushed(() => channel.closed ? info.settle(true, connectionLost()) : info.settle(false));
    }
    this.request = null;
    this.#releaseSlot();
    this.channel.taskDone(close);
  }
}

/** waitress hands the app a de-chunked body: Transfer-Encoding goes, Content-Length gives the decoded length. */
function dechunkedHeaders(pairs: readonly string[], length: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    if (pairs[i] !== "transfer-encoding") out.push(pairs[i], pairs[i + 1]);
  }
  out.push("content-length", String(length));
  return out;
}

/** The reason `info.completed` rejects with; built only when it does (an Error captures a stack). */
function connectionLost(): Error {
  return new Error("connection lost before the response was complete");
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an object (${Object.prototype.toString.call(value)})`;
  return `a ${typeof value}`;
}

/** Title-cases a header name as waitress does (`content-type` -> `Content-Type`, `etag` -> `Etag`). */
const titleCache = new Map<string, string>();
function titleCase(name: string): string {
  let cached = titleCache.get(name);
  if (cached !== undefined) return cached;
  cached = name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
  if (titleCache.size < 512) titleCache.set(name, cached);
  return cached;
}

/** Parses the application's Content-Length; -1 when absent, NaN when invalid. */
function declaredLength(value: string | null): number {
  if (value === null) return -1;
  return /^[0-9]{1,15}$/.test(value) ? Number(value) : NaN;
}

/** True when a Connection header value lists the `close` token. */
function hasCloseToken(value: string | null): boolean {
  if (value === null) return false;
  for (const token of value.split(",")) if (token.trim().toLowerCase() === "close") return true;
  return false;
}

/** The application's response headers, read in one pass. */
interface AppHeaders {
  /** Flat [name, value, ...] of the headers the engine passes on (no hop-by-hop, no Content-Length). */
  lines: string[];
  contentLength: string | null;
  connection: string | null;
  hasDate: boolean;
  hasServer: boolean;
}

/** Reads the response headers once (each Headers lookup walks the list again). */
function collectHeaders(headers: Headers): AppHeaders {
  const app: AppHeaders = { lines: [], contentLength: null, connection: null, hasDate: false, hasServer: false };
  // forEach, not for-of: the same entries, and on Deno about 1.3 µs cheaper per response (no iterator objects).
  headers.forEach((value, name) => {
    if (name === "content-length") {
      // Two different values cannot both be right.
      app.contentLength = app.contentLength === null || app.contentLength === value ? value : "conflicting";
      return;
    }
    if (HOP_BY_HOP.has(name)) {
      if (name === "connection") app.connection = app.connection === null ? value : `${app.connection}, ${value}`;
      return;
    }
    if (name === "date") app.hasDate = true;
    else if (name === "server") app.hasServer = true;
    app.lines.push(name, value);
  });
  return app;
}

/** Framing decided for one response. */
interface Framing {
  /** Content-Length to send, or -1. */
  length: number;
  chunked: boolean;
  close: boolean;
  /** Body bytes are written (false for HEAD, 1xx, 204, 304). */
  sendBody: boolean;
}

/** Microtask turns the peek waits for a body's second read to settle before choosing chunked framing. */
const PEEK_TICKS = 4;

/**
 * Microtask turns the first read of a body gets before the head goes out without it. Plain bodies
 * (strings, bytes, streams that enqueue at once) settle within 1 to 5 on every runtime.
 */
const FIRST_READ_TICKS = 16;

/**
 * Watches a read: its result once it settled, its failure if it failed. Callers give it a few microtask
 * turns with plain awaits (`for (...; watch.pending; ...) await null`): this runs for every plain
 * Response, so no Promise.race, no promise per turn and no async call of its own.
 */
class ReadWatch {
  result: ReadableStreamReadResult<unknown> | undefined = undefined;
  failed = false;
  failure: unknown = undefined;
  constructor(read: Promise<ReadableStreamReadResult<unknown>>) {
    read.then((r) => void (this.result = r), (e) => void (this.failed = true, this.failure = e));
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

function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`Response body chunks must be bytes (Uint8Array), got ${describeValue(value)}`);
}

/**
 * Writes the response: head, then body with the framing the request and
 * response allow. Resolves to whether the connection must close afterwards.
 */
async function writeResponse(task: Task, response: Response): Promise<boolean> {
  const channel = task.channel;
  const head = task.head;
  const status = response.status;
  // Only Response.error() gets here (status 0, a network error): it has no HTTP form to send.
  if (status < 200 || status > 599) throw new TypeError(`The handler returned a Response with status ${status}`);
  const app = collectHeaders(response.headers);
  const declared = declaredLength(app.contentLength);
  if (Number.isNaN(declared)) throw new TypeError(`Invalid Content-Length ${app.contentLength}`);
  const bodyless = status === 204 || status === 304;
  const sendBody = !bodyless && head.method !== "HEAD";
  // A FastResponse with a string or bytes body is written without a stream.
  const staticBody = response instanceof FastResponse ? FastResponse.staticBody(response) : undefined;
  const body = bodyless || staticBody !== undefined ? null : response.body;
  if (bodyless && staticBody === undefined) response.body?.cancel().catch(() => {});

  let close = channel.closeAfterResponse || !head.keepAlive || hasCloseToken(app.connection);
  let length = bodyless ? (status === 304 ? declared : -1) : declared;
  const reader = body?.getReader() ?? null;
  let first: Uint8Array | null = null;
  let next: Promise<ReadableStreamReadResult<unknown>> | null = null;

  if (!bodyless && staticBody !== undefined) {
    first = staticBody !== null && staticBody.length > 0 ? staticBody : null;
    if (length < 0) length = first?.length ?? 0;
  } else if (!bodyless && length < 0) {
    // Peek: a body that ends within its first chunk gets a Content-Length instead of chunking. A first
    // chunk that is not there within a few microtask turns (server-sent events, a file) is not waited
    // for: the head goes out at once, so the client sees the status before the first event.
    if (reader === null) length = 0;
    else {
      const pending1 = reader.read();
      const watch1 = new ReadWatch(pending1);
      for (let tick = 0; tick < FIRST_READ_TICKS && watch1.pending; tick++) await null;
      const r1 = watch1.settled();
      if (r1 === undefined) next = pending1;
      else if (r1.done) length = 0;
      else {
        first = asBytes(r1.value);
        // Does the body end right after its first chunk?
        const pending2 = reader.read();
        const watch2 = new ReadWatch(pending2);
        for (let tick = 0; tick < PEEK_TICKS && watch2.pending; tick++) await null;
        const r2 = watch2.settled();
        if (r2 !== undefined && r2.done) length = first.length;
        else next = pending2;
      }
    }
  }
  const chunked = !bodyless && length < 0 && head.version === "1.1";
  // HTTP/1.0 keeps the connection only with a known length; unknown length is close-delimited.
  if (head.version === "1.0" && length < 0 && !bodyless) close = true;
  const framing: Framing = { length, chunked, close, sendBody };
  const headText = serializeHead(task, response, app, framing);
  task.headWritten = true;

  if (reader === null) {
    if (first === null || !sendBody) channel.write(latin1Bytes(headText));
    else writeWithHead(channel, headText, first.length > length ? first.subarray(0, length) : first);
    const sent = first === null ? 0 : Math.min(first.length, length);
    return sendBody && sent < length ? shortBody(task, sent, length) : framing.close;
  }
  if (!sendBody) {
    channel.write(latin1Bytes(headText));
    reader.cancel().catch(() => {});
    return framing.close;
  }
  return await streamBody(task, reader, headText, framing, first, next);
}

/** Sends the body chunks with back-pressure; returns whether to close. */
async function streamBody(
  task: Task,
  reader: ReadableStreamDefaultReader<unknown>,
  headText: string,
  framing: Framing,
  first: Uint8Array | null,
  next: Promise<ReadableStreamReadResult<unknown>> | null,
): Promise<boolean> {
  const channel = task.channel;
  const limit = framing.length;
  let sent = 0;
  let head: string | null = headText;
  let done = false;
  const emit = (chunk: Uint8Array): void => {
    if (limit >= 0 && sent + chunk.length > limit) chunk = chunk.subarray(0, limit - sent);
    if (chunk.length === 0) return;
    sent += chunk.length;
    if (framing.chunked) writeChunk(channel, chunk, head);
    else if (head !== null) writeWithHead(channel, head, chunk);
    else channel.write(chunk);
    head = null;
  };
  try {
    if (first !== null) emit(first);
    if (next === null && first !== null && limit === first.length) {
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
          channel.write(latin1Bytes(head));
          head = null;
        }
      }
      for (;;) {
        const r = await result;
        if (r.done) {
          done = true;
          break;
        }
        if (channel.closed) break;
        emit(asBytes(r.value));
        if (limit >= 0 && sent >= limit) break;
        if (channel.congested) await channel.waitForRoom();
        if (channel.closed) break;
        result = reader.read();
      }
    }
  } finally {
    // Only a stream we stopped early needs cancelling. No releaseLock(): the stream is
    // dropped anyway, and releasing costs a TypeError with a stack on some runtimes.
    if (!done) reader.cancel().catch(() => {});
  }
  if (head !== null) channel.write(latin1Bytes(head));
  if (channel.closed) return true;
  if (framing.chunked) {
    channel.write(LAST_CHUNK);
    return framing.close;
  }
  if (limit >= 0 && sent < limit) return shortBody(task, sent, limit);
  return framing.close;
}

/** A body shorter than its declared length: logged, and the connection must close (the client must not wait). */
function shortBody(task: Task, sent: number, declared: number): true {
  task.channel.host.logger.warn(`Application returned ${sent} of ${declared} declared bytes for ${task.head.target}`);
  return true;
}

/**
 * Writes `text` one byte per character (response heads are latin-1) into
 * `out` at `offset`. At offset 0 it may scribble past `text.length` (see
 * below): callers fill the rest of `out` afterwards.
 */
function putLatin1(text: string, out: Uint8Array, offset: number): number {
  const n = text.length;
  // Heads are ASCII nearly always: the native encoder is then byte-for-byte latin-1. Any other
  // character takes two UTF-8 bytes, which shows as fewer characters read or more bytes written
  // than `n`; the loop then rewrites the head byte by byte. At offset 0 no view is made (a view
  // per response is measurable): stray UTF-8 bytes past `n` are overwritten by what follows.
  const { read, written } = headEncoder.encodeInto(text, offset === 0 ? out : out.subarray(offset, offset + n));
  if (read !== n || written !== n) {
    for (let i = 0; i < n; i++) out[offset + i] = text.charCodeAt(i);
  }
  return offset + n;
}

const headEncoder = new TextEncoder();

/**
 * Body chunks up to this size are copied next to their framing, so head,
 * framing and data leave in one write. Where the socket gathers pieces
 * without copying (`gathersWrites`), only tiny chunks are worth a copy: a
 * fresh 16 KiB array per chunk of a streamed response churns the allocator.
 */
function copyLimit(channel: Channel): number {
  return channel.conn.gathersWrites ? GATHERED_COPY_LIMIT : SMALL_CHUNK;
}

const GATHERED_COPY_LIMIT = 1024;

/** Head and first body chunk in one write; a large chunk is sent as it is, after the head. */
function writeWithHead(channel: Channel, head: string, chunk: Uint8Array): void {
  if (chunk.length > copyLimit(channel)) {
    channel.writeParts([latin1Bytes(head), chunk]);
    return;
  }
  const out = new Uint8Array(head.length + chunk.length);
  out.set(chunk, putLatin1(head, out, 0));
  channel.write(out);
}

/** Writes one chunk of a chunked body: `<HEX>\r\n<data>\r\n`, prefixed by the head when it has not gone yet. */
function writeChunk(channel: Channel, chunk: Uint8Array, head: string | null): void {
  const prefix = chunk.length.toString(16).toUpperCase() + "\r\n";
  if (chunk.length > copyLimit(channel)) {
    channel.writeParts([latin1Bytes(head === null ? prefix : head + prefix), chunk, CRLF]);
    return;
  }
  const headLength = head === null ? 0 : head.length;
  const out = new Uint8Array(headLength + prefix.length + chunk.length + 2);
  let offset = head === null ? 0 : putLatin1(head, out, 0);
  offset = putLatin1(prefix, out, offset);
  out.set(chunk, offset);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  channel.write(out);
}

/** The status line and headers, sorted by name as waitress sorts them. */
function serializeHead(task: Task, response: Response, app: AppHeaders, framing: Framing): string {
  const adj = task.adj;
  const version = task.head.version;
  const status = response.status;
  const reason = response.statusText !== "" ? checkedStatusText(response.statusText) : reasonPhrase(status);
  const lines = app.lines;
  const hasDate = app.hasDate;
  const hasServer = app.hasServer;
  if (framing.length >= 0 && status !== 204) lines.push("content-length", String(framing.length));
  if (framing.chunked) lines.push("transfer-encoding", "chunked");
  if (framing.close) lines.push("connection", "close");
  else if (version === "1.0") lines.push("connection", "Keep-Alive");
  if (!hasDate) lines.push("date", currentHttpDate());
  if (hasServer) lines.push("via", adj.ident === "" ? "waitress" : adj.ident);
  else if (adj.ident !== "") lines.push("server", adj.ident);
  return `HTTP/${version} ${status} ${reason}\r\n${sortedHeaderLines(lines)}\r\n`;
}

/** Up to this many headers are sorted by insertion (no comparator closure); more go to Array.sort. */
const INSERTION_SORT_MAX = 24;

/** `Name: value\r\n` lines from flat [lower-case name, value, ...], stable-sorted by name (exported for tests). */
export function sortedHeaderLines(flat: string[]): string {
  const n = flat.length / 2;
  const order: number[] = new Array(n);
  if (n <= INSERTION_SORT_MAX) {
    // A response has a handful of headers: insertion sort is stable and allocates nothing more.
    for (let i = 0; i < n; i++) {
      const name = flat[i * 2];
      let j = i;
      while (j > 0 && flat[order[j - 1] * 2] > name) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
    }
  } else {
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => {
      const x = flat[a * 2];
      const y = flat[b * 2];
      return x < y ? -1 : x > y ? 1 : a - b;
    });
  }
  let text = "";
  for (let k = 0; k < n; k++) {
    const i = order[k];
    text += `${titleCase(flat[i * 2])}: ${flat[i * 2 + 1]}\r\n`;
  }
  return text;
}

/** Writes waitress's error response (always closes the connection afterwards). */
export function writeErrorResponse(
  channel: Channel,
  status: number,
  reason: string,
  detail: string,
  version: "1.0" | "1.1",
): void {
  const adj = channel.host.adj;
  const body = utf8(errorBody(reason, detail, adj.ident));
  let head = `HTTP/${version} ${status} ${reason}\r\n` +
    `Connection: close\r\nContent-Length: ${body.length}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Date: ${currentHttpDate()}\r\n`;
  if (adj.ident !== "") head += `Server: ${adj.ident}\r\n`;
  head += "\r\n";
  const out = new Uint8Array(head.length + body.length);
  out.set(body, putLatin1(head, out, 0));
  channel.write(out);
}
