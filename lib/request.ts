/**
 * The request object handed to the application: a lazy stand-in for the
 * Fetch `Request`. Its headers, body stream and signal are built only when
 * first used (building a full Request per request halves throughput), and
 * unlike the standard constructor it carries a body on GET and HEAD, as
 * waitress hands every body to the app in `wsgi.input`.
 *
 * `request instanceof Request` is true. To forward it with `fetch`, build a
 * real one: `new Request(request.url, request)`.
 *
 * @module
 */
import type { InputBuffer } from "./buffers.ts";

const decoder = new TextDecoder();

/** Where a request's body bytes come from. */
export type RequestBody = InputBuffer | null;

/** Builds a Headers object from a flat [name, value, ...] list. */
export function headersFromPairs(pairs: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < pairs.length; i += 2) headers.append(pairs[i], pairs[i + 1]);
  return headers;
}

/** What a real Request's body stream is once the body was consumed: closed, and locked. Built only if asked for. */
function consumedStream(): ReadableStream<Uint8Array> {
  const stream = new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
  stream.getReader();
  return stream;
}

/** The lazy request. Fields are private; the getters mirror `Request`. */
export class ServerRequest {
  #method: string;
  #url: string;
  #pairs: readonly string[];
  #headers: Headers | null = null;
  #body: RequestBody;
  #stream: ReadableStream<Uint8Array> | null = null;
  #used = false;
  #controller: AbortController | null = null;
  #abortReason: unknown = undefined;
  #aborted = false;

  /** Made by the engine only. */
  constructor(method: string, url: string, pairs: readonly string[], body: RequestBody) {
    this.#method = method;
    this.#url = url;
    this.#pairs = pairs;
    this.#body = body !== null && body.length > 0 ? body : null;
  }

  /** The request method, as sent. */
  get method(): string {
    return this.#method;
  }

  /** scheme://host/path?query, with the url prefix split off. */
  get url(): string {
    return this.#url;
  }

  /** The request headers (names lower-case, repeated fields combined as Headers does). */
  get headers(): Headers {
    return this.#headers ??= headersFromPairs(this.#pairs);
  }

  /** The body as a stream, or null when the request had none. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#body === null) return null;
    return this.#stream ??= this.#used ? consumedStream() : this.#body.stream(() => this.#used = true);
  }

  /** True once the body has been read (or its stream taken and read). */
  get bodyUsed(): boolean {
    return this.#used;
  }

  /** Aborts when the client goes away before the response is complete; never after a success. */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** The body as bytes. */
  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return Promise.resolve().then(() => this.#consume());
  }

  /** The body as an ArrayBuffer. */
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.bytes().then((b) =>
      b.byteOffset === 0 && b.buffer.byteLength === b.length ? b.buffer : new Uint8Array(b).buffer
    );
  }

  /** The body decoded as UTF-8. */
  text(): Promise<string> {
    return this.bytes().then((b) => decoder.decode(b));
  }

  /** The body parsed as JSON. */
  json(): Promise<unknown> {
    return this.text().then((t) => JSON.parse(t));
  }

  /** The body as a Blob typed by Content-Type. */
  blob(): Promise<Blob> {
    return this.bytes().then((b) => new Blob([b], { type: this.headers.get("content-type") ?? "" }));
  }

  /** The body parsed as multipart/form-data or application/x-www-form-urlencoded. */
  formData(): Promise<FormData> {
    return this.bytes().then((b) => {
      const type = this.headers.get("content-type") ?? "";
      return new Response(b, { headers: { "content-type": type } }).formData();
    });
  }

  /** A copy that can be read independently (the body is buffered, so both can read it all). */
  clone(): ServerRequest {
    // Locked counts as used, as for a real Request: someone holds a reader on the body.
    if (this.bodyUsed || this.#stream?.locked) throw new TypeError("Request body is already used");
    this.#body?.share();
    const copy = new ServerRequest(this.#method, this.#url, this.#pairs, this.#body);
    if (this.#aborted) abortServerRequest(copy, this.#abortReason);
    return copy;
  }

  /** Fetch defaults: a server-side request has no browser context. */
  get cache(): RequestCache {
    return "default";
  }
  /** Fetch default. */
  get credentials(): RequestCredentials {
    return "same-origin";
  }
  /** Fetch default. */
  get destination(): RequestDestination {
    return "";
  }
  /** Fetch default. */
  get integrity(): string {
    return "";
  }
  /** Fetch default. */
  get keepalive(): boolean {
    return false;
  }
  /** Fetch default. */
  get mode(): RequestMode {
    return "cors";
  }
  /** Fetch default. */
  get redirect(): RequestRedirect {
    return "follow";
  }
  /** Fetch default. */
  get referrer(): string {
    return "about:client";
  }
  /** Fetch default. */
  get referrerPolicy(): ReferrerPolicy {
    return "";
  }
  /** So `new Request(url, request)` accepts the body stream. */
  get duplex(): "half" {
    return "half";
  }
  /** Node's Request has it (undici); never true for a request a server received. */
  get isReloadNavigation(): boolean {
    return false;
  }
  /** Node's Request has it (undici); never true for a request a server received. */
  get isHistoryNavigation(): boolean {
    return false;
  }

  /** The body as a stream of UTF-8 text, as Deno's and Bun's `Request.textStream()` (offered on Node too). */
  textStream(): ReadableStream<string> {
    if (this.#used) throw new TypeError("Request body is already used");
    const body = this.body;
    if (body === null) return new ReadableStream<string>({ start: (controller) => controller.close() });
    return body.pipeThrough(new TextDecoderStream());
  }

  #consume(): Uint8Array<ArrayBuffer> {
    if (this.#used || this.#stream?.locked) throw new TypeError("Request body is already used");
    this.#used = true;
    if (this.#body === null) return new Uint8Array(0);
    if (this.#stream !== null) {
      // The stream exists but was never read: reading the buffer directly is equivalent. Locked, as a real
      // Request's body is once consumed.
      this.#stream.getReader().cancel().catch(() => {});
    }
    return this.#body.bytes() as Uint8Array<ArrayBuffer>;
  }

  /** Engine hook: the client went away before the response was complete. */
  static abort(request: ServerRequest, reason: unknown): void {
    if (request.#aborted) return;
    request.#aborted = true;
    request.#abortReason = reason;
    request.#controller?.abort(reason);
  }
}

/** Aborts a request's signal (engine use only). */
export function abortServerRequest(request: ServerRequest, reason: unknown): void {
  ServerRequest.abort(request, reason);
}

// `instanceof Request` holds, and Object.prototype.toString says "Request".
Object.setPrototypeOf(ServerRequest.prototype, Request.prototype);
