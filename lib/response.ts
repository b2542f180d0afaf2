/**
 * `FastResponse`: a drop-in `Response` for hot paths. It only records its
 * body and init; the engine writes a string, bytes or empty body straight to
 * the socket, without the ReadableStream every standard Response body goes
 * through (that stream is most of a hello-world request's cost on Node).
 * Anything else the app touches (body, text(), clone(), ...) builds the real
 * Response on first use, so it behaves as one. Nothing global is replaced:
 * import it where you want it.
 *
 * ```ts
 * import { FastResponse } from "./mod.ts";
 * const handler = () => new FastResponse("Hello World", { headers: { "content-type": "text/plain" } });
 * ```
 *
 * @module
 */

import { isFieldTextChar, TOKEN_CHARS } from "./grammar.ts";
import { checkedStatusText, isShortAscii } from "./utilities.ts";

const encoder = new TextEncoder();

/** The Content-Type a string body implies, as Response adds it. */
const STRING_TYPE = "text/plain;charset=UTF-8";

/** More headers than this in a FastResponse's init go through a real Headers object (the check below is quadratic). */
const PLAIN_HEADERS_MAX = 32;

/** The lower-cased names and values `plainHeaders` accepted, reused by every response (it is filled and read at once). */
const scratch: string[] = [];

/**
 * Whether `name` is a token and `value` a field value that a Headers object would keep exactly as given (no
 * whitespace to strip at either end, no character it would refuse or that a header line cannot carry).
 */
function isPlainHeader(name: string, value: string): boolean {
  const n = name.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) if (TOKEN_CHARS[name.charCodeAt(i)] !== 1) return false;
  const m = value.length;
  if (m === 0) return true;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(m - 1);
  if (first === 32 || first === 9 || last === 32 || last === 9) return false;
  for (let i = 0; i < m; i++) if (!isFieldTextChar(value.charCodeAt(i))) return false;
  return true;
}

/** Puts one header into `scratch`, lower-cased; false when it is not plain or its name is there already. */
function takePlain(name: unknown, value: unknown): boolean {
  if (typeof name !== "string" || typeof value !== "string" || !isPlainHeader(name, value)) return false;
  const lower = name.toLowerCase();
  for (let i = 0; i < scratch.length; i += 2) if (scratch[i] === lower) return false;
  scratch.push(lower, value);
  return true;
}

/**
 * Fills `scratch` with the headers of `init` when it is absent, a plain object or an array of pairs whose names
 * are distinct tokens and whose values are plain (`isPlainHeader`): what `new Headers(init)` would hold then, in
 * the order given. False for anything else (a repeated name, which Headers would combine; whitespace it would
 * strip; a value it would refuse; an object of another kind): a real Headers object takes those.
 */
function plainHeaders(init: HeadersInit | undefined): boolean {
  scratch.length = 0;
  if (init === undefined) return true;
  if (Array.isArray(init)) {
    if (init.length > PLAIN_HEADERS_MAX) return false;
    for (const pair of init) {
      if (!Array.isArray(pair) || pair.length !== 2 || !takePlain(pair[0], pair[1])) return false;
    }
    return true;
  }
  if (typeof init !== "object" || init === null) return false;
  const proto = Object.getPrototypeOf(init);
  if (proto !== Object.prototype && proto !== null) return false;
  const names = Object.keys(init);
  if (names.length > PLAIN_HEADERS_MAX) return false;
  for (const name of names) if (!takePlain(name, (init as Record<string, unknown>)[name])) return false;
  return true;
}

/** Body kinds the engine can write without a stream. */
type StaticBody = string | Uint8Array | ArrayBuffer | null | undefined;

function isStatic(body: unknown): body is StaticBody {
  return body === null || body === undefined || typeof body === "string" || body instanceof Uint8Array ||
    body instanceof ArrayBuffer;
}

/**
 * True when `new Response(body, init)` refuses something the shortcut would let
 * through (so it is built at once, to throw); throws itself on a status text
 * that could not stand in a status line.
 */
function needsRealResponse(body: StaticBody, init: ResponseInit): boolean {
  const status = init.status;
  // Refused on every runtime, though Bun's own Response takes it: it would end up in the status line.
  if (init.statusText !== undefined) checkedStatusText(init.statusText);
  if (status === undefined) return false;
  if (!Number.isInteger(status) || status < 200 || status > 599) return true;
  return (status === 204 || status === 205 || status === 304) && body !== null && body !== undefined;
}

/** A Response that defers building the real one until something needs it. */
export class FastResponse {
  #body: BodyInit | null | undefined;
  #init: ResponseInit | undefined;
  #real: Response | null = null;
  #headers: Headers | null = null;

  /** Same arguments as `new Response(body, init)`. */
  constructor(body?: BodyInit | null, init?: ResponseInit) {
    this.#body = body;
    this.#init = init;
    // The real Response at once, where the shortcut would differ from it: a body that goes through a stream anyway
    // (Blob, FormData, URLSearchParams, a stream), whose Content-Type only the real one knows; and a status the real
    // constructor refuses (out of range, or a body on 204, 205 or 304), so that it fails here.
    if (!isStatic(body) || (init !== undefined && needsRealResponse(body, init))) this.#real = new Response(body, init);
  }

  /** `Response.json()`, fast. */
  static json(data: unknown, init?: ResponseInit): FastResponse {
    const headers = new Headers(init?.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new FastResponse(JSON.stringify(data), { ...init, headers });
  }

  /** `Response.redirect()`; a real Response, as this path has nothing to gain. */
  static redirect(url: string | URL, status?: number): Response {
    return Response.redirect(url, status);
  }

  /** `Response.error()`; a real Response. */
  static error(): Response {
    return Response.error();
  }

  #response(): Response {
    if (this.#real === null) {
      this.#real = new Response(
        this.#body,
        this.#headers === null ? this.#init : { ...this.#init, headers: this.#headers },
      );
    }
    return this.#real;
  }

  /** The status code. */
  get status(): number {
    return this.#real?.status ?? this.#init?.status ?? 200;
  }
  /** The status text. */
  get statusText(): string {
    return this.#real?.statusText ?? this.#init?.statusText ?? "";
  }
  /** True for 200-299. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  /** The headers, including the Content-Type a string body implies (as Response adds it). */
  get headers(): Headers {
    if (this.#real !== null) return this.#real.headers;
    if (this.#headers === null) {
      const headers = new Headers(this.#init?.headers);
      if (typeof this.#body === "string" && !headers.has("content-type")) {
        headers.set("content-type", STRING_TYPE);
      }
      this.#headers = headers;
    }
    return this.#headers;
  }
  /** The body as a stream (builds the real Response). */
  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#response().body;
  }
  /** Whether the body was read. */
  get bodyUsed(): boolean {
    return this.#real?.bodyUsed ?? false;
  }
  /** Always "default" for a constructed response. */
  get type(): ResponseType {
    return this.#real?.type ?? "default";
  }
  /** Empty for a constructed response. */
  get url(): string {
    return this.#real?.url ?? "";
  }
  /** False for a constructed response. */
  get redirected(): boolean {
    return this.#real?.redirected ?? false;
  }
  /** The body as bytes. */
  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.#response().bytes();
  }
  /** The body as an ArrayBuffer. */
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#response().arrayBuffer();
  }
  /** The body as text. */
  text(): Promise<string> {
    return this.#response().text();
  }
  /** The body parsed as JSON. */
  json(): Promise<unknown> {
    return this.#response().json();
  }
  /** The body as a Blob. */
  blob(): Promise<Blob> {
    return this.#response().blob();
  }
  /** The body as FormData. */
  formData(): Promise<FormData> {
    return this.#response().formData();
  }
  /** A copy (a real Response). */
  clone(): Response {
    return this.#response().clone();
  }
  /**
   * The body as a stream of decoded text, where the runtime's Response has
   * `textStream()` (Deno and Bun do; on Node it throws, as Response does).
   */
  textStream(): ReadableStream<string> {
    return (this.#response() as unknown as { textStream(): ReadableStream<string> }).textStream();
  }

  static {
    // Whatever else a runtime's Response has (today or in a later release) acts on the real Response: inherited as
    // it is, it would fail Response's own check that `this` is a real one.
    const real = (r: FastResponse) => r.#response() as unknown as Record<string, unknown>;
    for (const key of Object.getOwnPropertyNames(Response.prototype)) {
      if (key === "constructor" || Object.hasOwn(FastResponse.prototype, key)) continue;
      const d = Object.getOwnPropertyDescriptor(Response.prototype, key)!;
      if (typeof d.value === "function") {
        d.value = function (this: FastResponse, ...args: unknown[]): unknown {
          return (real(this)[key] as (...a: unknown[]) => unknown)(...args);
        };
      } else if (d.get !== undefined) {
        d.get = function (this: FastResponse): unknown {
          return real(this)[key];
        };
        d.set = undefined;
      } else {
        continue;
      }
      Object.defineProperty(FastResponse.prototype, key, d);
    }
  }

  /**
   * Engine hook: the body when it can be written without a stream and
   * nothing has built the real Response yet: a short ASCII string as it is
   * (one byte per character, for the engine to copy next to the head),
   * other strings and bytes as bytes, null for none; undefined otherwise.
   */
  static staticBody(response: FastResponse): Uint8Array | string | null | undefined {
    if (response.#real !== null) return undefined;
    const body = response.#body;
    if (!isStatic(body)) return undefined;
    if (body === null || body === undefined) return null;
    if (typeof body === "string") return isShortAscii(body) ? body : encoder.encode(body);
    return body instanceof Uint8Array ? body : new Uint8Array(body);
  }

  /**
   * Engine hook: calls `visit` with each header (value and lower-case name, as `Headers.forEach` does, the
   * Content-Type a string body implies included) without building a Headers object where the init's headers
   * need none; false, having called nothing, where they do (or `headers` was read, or the real Response built):
   * then `headers` is what to read.
   */
  static eachHeader<T>(
    response: FastResponse,
    visit: (this: T, value: string, name: string) => void,
    target: T,
  ): boolean {
    if (response.#real !== null || response.#headers !== null) return false;
    const init = response.#init?.headers;
    const impliesType = typeof response.#body === "string";
    if (init instanceof Headers) {
      init.forEach(visit, target);
      if (impliesType && !init.has("content-type")) visit.call(target, STRING_TYPE, "content-type");
      return true;
    }
    if (!plainHeaders(init)) return false;
    let typed = false;
    for (let i = 0; i < scratch.length; i += 2) {
      if (scratch[i] === "content-type") typed = true;
      visit.call(target, scratch[i + 1], scratch[i]);
    }
    if (impliesType && !typed) visit.call(target, STRING_TYPE, "content-type");
    return true;
  }
}

// `instanceof Response` holds.
Object.setPrototypeOf(FastResponse.prototype, Response.prototype);
