/**
 * One request's task (waitress's WSGITask and ErrorTask), its lifecycle
 * only: wait for a dispatcher slot, build the request (incoming.ts), call
 * the application, hand its Response to the response writer
 * (response_writer.ts), and give the slot back when the response is
 * produced or the connection is lost. The task talks to its channel
 * through `TaskChannel` and to its server through `TaskServer`, both declared
 * here; the channel and the server implement them.
 *
 * @module
 */
import type { AccessRecord } from "./access_log.ts";
import type { Adjustments } from "./adjustments.ts";
import type { Logger } from "./logger.ts";
import type { InputBuffer } from "./buffers.ts";
import { type Arrival, buildRequest, type RequestInfo } from "./incoming.ts";
import type { HttpError, RequestHead, RequestParser } from "./parser.ts";
import { abortServerRequest, type ServerRequest } from "./request.ts";
import type { FastResponse } from "./response.ts";
import { type ResponseJob, type ResponseSink, writeErrorResponse, writeResponse } from "./response_writer.ts";
import type { Handler, RemoteAddr } from "./types.ts";
import { describeError, describeKind } from "./utilities.ts";
import { handshakeAnswer, hasUpgradeHeader } from "./websocket/engine.ts";
import { offerUpgrade, type PendingUpgrade, takeUpgrade } from "./websocket/upgrade.ts";

/** Bounded application slots, in arrival order (the Dispatcher). */
export interface Slots {
  /** Calls `task.start()` once a slot is free; that leads to exactly one `release()`. */
  run(task: { start(): void }): unknown;
  /** Gives a slot back. */
  release(): void;
}

/** What every task of one server shares (the server provides it). */
export interface TaskServer {
  readonly adj: Adjustments;
  readonly logger: Logger;
  /** The application as a function. */
  readonly handler: Handler;
  readonly dispatcher: Slots;
  /** Writes one access log line; null when the log is off (then a task does nothing for it). */
  readonly accessLog: ((record: AccessRecord) => void) | null;
}

/** Where a task's response goes: the writer's sink, and word once all of it has left. */
export interface TaskOutput extends ResponseSink {
  /** True when everything written so far has been handed to the OS (`whenFlushed` would call back at once). */
  readonly flushed: boolean;
  /** Calls `done` once everything written so far has been handed to the OS (or the connection closed). */
  whenFlushed(done: () => void): void;
}

/** What a task needs from the channel (the connection) it serves. */
export interface TaskChannel extends Arrival {
  readonly output: TaskOutput;
  /** The response must announce `Connection: close` (the connection closes after it). */
  readonly closeAfterResponse: boolean;
  /** The application is about to be called: until `taskDone`, the channel tells `task` of a connection lost. */
  taskStarted(task: Task): void;
  /** The response is produced or abandoned; `close`: the connection must close after it. */
  taskDone(close: boolean): void;
  /** Drops the connection now (a response that cannot be completed). */
  destroy(): void;
  /**
   * The handler returned a WebSocket upgrade: write the 101 and hand the connection over; `ended`
   * (when not null) hears, once the connection is gone, how many frame bytes were sent.
   */
  switchToWebSocket(pending: PendingUpgrade, response: Response, ended: ((sentBytes: number) => void) | null): void;
}

/** Serves a parsed request on `channel` once `server` has a dispatcher slot for it. */
export function runTask(server: TaskServer, channel: TaskChannel, parser: RequestParser): void {
  const task = new Task(server, channel, parser);
  server.dispatcher.run(task);
}

/** One request, from its dispatcher slot to its response (or the loss of its connection). */
export class Task implements ResponseJob {
  readonly server: TaskServer;
  readonly channel: TaskChannel;
  readonly out: TaskOutput;
  readonly head: RequestHead;
  readonly body: InputBuffer | null;
  readonly ident: string;
  readonly logger: Logger;
  request: ServerRequest | null = null;
  info: RequestInfo | null = null;
  headWritten = false;
  bodySent = 0;
  finished = false;
  lost = false;
  #slotHeld = true;
  /** The request carries an Upgrade header, so upgradeWebSocket may accept it. */
  #upgradable = false;
  /** The status sent, 0 while none; the response, for `{header}o` atoms. Kept for the access log. */
  #status = 0;
  #response: Response | null = null;
  /** When the request was received (epoch ms, and a monotonic clock for its duration); only with an access log. */
  #receivedAt = 0;
  #receivedClock = 0;

  constructor(server: TaskServer, channel: TaskChannel, parser: RequestParser) {
    this.server = server;
    this.channel = channel;
    this.out = channel.output;
    this.head = parser.head as RequestHead;
    this.body = parser.body as InputBuffer | null;
    this.ident = server.adj.ident;
    this.logger = server.logger;
    if (server.accessLog !== null) {
      this.#receivedAt = Date.now();
      this.#receivedClock = performance.now();
    }
  }

  /** Runs in a dispatcher slot (the dispatcher queues the task itself: no closure per request). */
  start(): void {
    if (this.out.closed) {
      this.#finish(true);
      return;
    }
    let incoming: ReturnType<typeof buildRequest>;
    try {
      incoming = buildRequest(this.head, this.body, this.channel, this.server.adj, this.logger);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (typeof incoming === "string") {
      this.bodySent = writeErrorResponse(this.out, this.ident, 400, "Bad Request", incoming, this.head.version);
      this.#status = 400;
      this.#finish(true);
      return;
    }
    const request = incoming.request;
    this.request = request;
    if (hasUpgradeHeader(this.head.headers)) {
      offerUpgrade(request, this.head.version);
      this.#upgradable = true;
    }
    this.info = incoming.info;
    this.channel.taskStarted(this);
    let result: ReturnType<Handler>;
    try {
      result = this.server.handler(request as unknown as Request, incoming.info);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (result !== null && typeof (result as Promise<Response>).then === "function") {
      (result as Promise<Response | FastResponse>).then((r) => this.#respond(r), (e) => this.#fail(e));
    } else {
      this.#respond(result as Response | FastResponse);
    }
  }

  #respond(response: Response | FastResponse): void {
    if (this.finished) return;
    if (!(response instanceof Response)) {
      this.#fail(new TypeError(`The handler returned ${describeKind(response)} instead of a Response`));
      return;
    }
    if (this.out.closed) {
      response.body?.cancel().catch(() => {});
      if (this.#upgradable) takeUpgrade(this.request!, null);
      this.#finish(true);
      return;
    }
    if (this.#upgradable) {
      const upgrade = takeUpgrade(this.request!, response);
      if (upgrade !== null) {
        const log = this.server.accessLog;
        this.channel.switchToWebSocket(
          upgrade,
          response,
          log === null ? null : (sent) => {
            // As nginx (and gunicorn, for a WebSocket served inside the app call) log it: when the
            // connection ends, with the bytes sent after the 101 head and the whole session's time.
            this.#status = 101;
            this.bodySent = sent;
            this.#response = response;
            this.#logAccess(log);
          },
        );
        this.#finish(false);
        return;
      }
    }
    if (this.server.accessLog !== null) {
      this.#status = response.status;
      this.#response = response;
    }
    let written: boolean | Promise<boolean>;
    try {
      written = writeResponse(this, response, this.channel.closeAfterResponse);
    } catch (error) {
      this.#fail(error);
      return;
    }
    // Finished in a later microtask even when written at once: the channel serves the next request from
    // `#finish`, and a pipelined batch must not recurse one stack frame deeper per request.
    if (typeof written === "boolean") queueMicrotask(() => this.#finish(written));
    else written.then((close) => this.#finish(close), (error) => this.#fail(error));
  }

  /** The application failed: 500 if nothing was sent yet, else cut the connection (the body is incomplete). */
  #fail(error: unknown): void {
    if (this.finished) return;
    if (this.#upgradable) takeUpgrade(this.request!, null);
    if (this.lost) {
      this.#finish(true);
      return;
    }
    const handshake = this.headWritten ? null : handshakeAnswer(error);
    if (handshake !== null) {
      // The client's fault, not the application's: 400 (426 for the version), not 500.
      const message = (error as Error).message;
      const { status, reason, headers } = handshake;
      this.bodySent = writeErrorResponse(this.out, this.ident, status, reason, message, this.head.version, headers);
      this.#status = status;
      this.#finish(true);
      return;
    }
    this.logger.error(`Exception while serving ${this.head.target}\n${describeError(error)}`);
    if (this.headWritten) {
      this.channel.destroy();
      this.#finish(true);
      return;
    }
    const detail = this.server.adj.exposeTracebacks
      ? describeError(error)
      : "The server encountered an unexpected internal server error";
    this.bodySent = writeErrorResponse(this.out, this.ident, 500, "Internal Server Error", detail, this.head.version);
    this.#status = 500;
    this.#finish(true);
  }

  /** The client went away while this task was being served (the channel calls this between taskStarted and taskDone). */
  connectionLost(reason: unknown): void {
    if (this.finished) return;
    this.lost = true;
    if (this.server.adj.logSocketErrors) this.logger.info(`Client disconnected while serving ${this.head.target}`);
    if (this.request !== null) abortServerRequest(this.request, reason);
    this.info?.settle(true, reason);
    // The client is gone: a handler that never settles must not keep its slot from others.
    this.#releaseSlot();
  }

  #releaseSlot(): void {
    if (!this.#slotHeld) return;
    this.#slotHeld = false;
    this.server.dispatcher.release();
  }

  /** Response produced (or abandoned): free the slot and the body, let the channel go on. */
  #finish(close: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.body?.dispose();
    const info = this.info;
    if (info !== null) {
      const out = this.out;
      if (this.lost || out.closed) info.settle(true, connectionLostError());
      else if (out.flushed) info.settle(false);
      else out.whenFlushed(() => out.closed ? info.settle(true, connectionLostError()) : info.settle(false));
    }
    this.request = null;
    this.#releaseSlot();
    if (this.server.accessLog !== null && this.#status !== 0) this.#logAccess(this.server.accessLog);
    this.channel.taskDone(close);
  }

  /** The access log line of this response, with what was actually sent (a client that left early included). */
  #logAccess(log: (record: AccessRecord) => void): void {
    const head = this.head;
    const response = this.#response;
    this.#response = null;
    log({
      remoteAddr: (this.info?.remoteAddr ?? this.channel.remote).hostname,
      requestLine: null,
      method: head.method,
      target: head.target,
      protocol: head.version === "1.1" ? "HTTP/1.1" : "HTTP/1.0",
      requestHeaders: head.headers,
      status: this.#status,
      bodyBytes: this.bodySent,
      responseHeader: (name) => response?.headers.get(name) ?? null,
      startTime: this.#receivedAt,
      duration: performance.now() - this.#receivedClock,
    });
  }
}

/**
 * waitress's ErrorTask: writes the error answer the channel decided while
 * reading `parser`'s request (a malformed head, 413, 431, the 408 of the
 * body clock), before any task existed, and logs it as nginx and Apache do.
 * `startTime` is when the request's first byte arrived (epoch ms).
 */
export function answerRefusal(
  server: TaskServer,
  channel: Pick<TaskChannel, "output" | "remote">,
  parser: RequestParser,
  error: HttpError,
  startTime: number,
): void {
  const { status, reason, detail, version } = error;
  const bodyBytes = writeErrorResponse(channel.output, server.adj.ident, status, reason, detail, version);
  if (server.accessLog !== null) logRefusal(server.accessLog, channel.remote, parser, status, bodyBytes, startTime);
}

/**
 * The access log line of a refusal: the request line if it was read
 * (escaped like every client value), `-` if not; the peer's address, since
 * no trusted-proxy header of a refused request is believed.
 */
function logRefusal(
  log: (record: AccessRecord) => void,
  remote: RemoteAddr,
  parser: RequestParser,
  status: number,
  bodyBytes: number,
  startTime: number,
): void {
  const head = parser.head;
  log({
    remoteAddr: remote.hostname,
    requestLine: head === null ? parser.failedLine ?? "" : null,
    method: head?.method ?? "",
    target: head?.target ?? "",
    protocol: head === null ? "" : `HTTP/${head.version}`,
    requestHeaders: head?.headers ?? [],
    status,
    bodyBytes,
    responseHeader: () => null,
    startTime,
    duration: Date.now() - startTime,
  });
}

/** The reason `info.completed` rejects with; built only when it does (an Error captures a stack). */
function connectionLostError(): Error {
  return new Error("connection lost before the response was complete");
}
