/**
 * Shared by the socket-floor servers (raw-net.mjs on Node and Deno, raw-bun.ts
 * on Bun): how they find requests and what they answer. They look at each
 * byte once: a request ends at its blank line, or, when its head carried a
 * Content-Length, once that many body bytes went by.
 *
 * `FLOOR` in the environment picks what a floor does beyond finding requests:
 *
 * - `drop` (default, the socket floor): body bytes are dropped as they go by,
 *   and every request gets a canned answer.
 * - `keep` (the copy floor): each body is copied into one fresh array of its
 *   length, the least any server must do to hand an application its body
 *   whole (`request.arrayBuffer()`).
 * - `fetch` (the Fetch floor): each `GET /` is answered by the benchmark app,
 *   called with a minimal request, its Response body read by the cheapest
 *   public call (`bytes()` or `text()`, not the body stream), the least a
 *   server must do with a standard Response when it cannot see the runtime's
 *   internals.
 *
 * @module
 */
import { handler } from "./app.ts";

/** What a floor server does beyond finding requests (see the module comment). */
export type FloorMode = "drop" | "keep" | "fetch";

/** The floor mode from the `FLOOR` environment variable. */
export function floorMode(env: Record<string, string | undefined>): FloorMode {
  const mode = env.FLOOR ?? "drop";
  if (mode !== "drop" && mode !== "keep" && mode !== "fetch") throw new Error(`FLOOR=${mode}: drop, keep or fetch`);
  return mode;
}

/** The last body kept (copy floor), so that the copies cannot be optimised away. */
export let lastKeptBody: Uint8Array | null = null;

/** "\r\ncontent-length:" as the lower-case bytes the scanner compares with. */
const LENGTH_FIELD = Array.from("\r\ncontent-length:", (c) => c.charCodeAt(0));

/** Finds request boundaries in a byte stream, across reads. */
export class RequestScanner {
  /** Body lengths of the requests completed by the last `feed` (0: no body). */
  readonly completed: number[] = [];
  #blankLine = 0;
  #field = 0;
  #inLength = false;
  #length = 0;
  #bodyLeft = 0;
  readonly #keep: boolean;
  #body: Uint8Array | null = null;

  /** `keepBodies`: copy each body into a fresh array of its length (the copy floor). */
  constructor(keepBodies = false) {
    this.#keep = keepBodies;
  }

  /** Scans `chunk`; the requests it completes are listed in `completed` (cleared first). */
  feed(chunk: Uint8Array): void {
    this.completed.length = 0;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, n - i);
        const body = this.#body;
        if (body !== null) body.set(chunk.subarray(i, i + take), body.length - this.#bodyLeft);
        this.#bodyLeft -= take;
        i += take;
        if (this.#bodyLeft === 0) {
          if (body !== null) lastKeptBody = body;
          this.#body = null;
          this.completed.push(this.#length);
          this.#length = 0;
        }
        continue;
      }
      const c = chunk[i++];
      this.#scanLengthField(c);
      const m = this.#blankLine;
      if ((c === 13 && (m === 0 || m === 2)) || (c === 10 && (m === 1 || m === 3))) {
        this.#blankLine = m + 1;
        if (this.#blankLine === 4) this.#headEnded();
      } else this.#blankLine = c === 13 ? 1 : 0;
    }
  }

  #scanLengthField(c: number): void {
    if (this.#inLength) {
      if (c >= 48 && c <= 57) this.#length = this.#length * 10 + c - 48;
      else if (c !== 32 || this.#length > 0) this.#inLength = false;
      return;
    }
    const lower = c >= 65 && c <= 90 ? c + 32 : c;
    if (lower === LENGTH_FIELD[this.#field]) {
      if (++this.#field === LENGTH_FIELD.length) {
        this.#field = 0;
        this.#inLength = true;
      }
    } else this.#field = lower === 13 ? 1 : 0;
  }

  #headEnded(): void {
    this.#blankLine = 0;
    this.#field = 0;
    this.#inLength = false;
    if (this.#length > 0) {
      this.#bodyLeft = this.#length;
      if (this.#keep) this.#body = new Uint8Array(this.#length);
    } else this.completed.push(0);
  }
}

let hello = "";
let second = -1;
let date = "";

function currentDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== second) {
    second = s;
    date = new Date(now).toUTCString();
    hello = "HTTP/1.1 200 OK\r\ncontent-type: text/plain;charset=UTF-8\r\ncontent-length: 11\r\n" +
      `date: ${date}\r\n\r\nHello World`;
  }
  return date;
}

/** The canned answers for requests completed by one read, as text: "Hello World", or an upload's length. */
export function cannedResponses(bodyLengths: readonly number[]): string {
  currentDate();
  let out = "";
  for (const length of bodyLengths) {
    if (length === 0) out += hello;
    else {
      const body = String(length);
      out += "HTTP/1.1 200 OK\r\ncontent-type: text/plain;charset=UTF-8\r\n" +
        `content-length: ${body.length}\r\ndate: ${date}\r\n\r\n${body}`;
    }
  }
  return out;
}

const encoder = new TextEncoder();
/** All the Fetch floor's request offers the app: the benchmark app reads only `url`. */
const FLOOR_REQUEST = { method: "GET", url: "http://127.0.0.1/" } as Request;

/**
 * How the Fetch floor reads the body: the cheapest public call for a body the
 * Response already holds (its `GET /` body is a string) on this runtime, as
 * measured in bench/README.md: `text()` encoded into the output on Deno,
 * `bytes()` on Node and Bun. Both are cheaper than the body stream.
 */
const READS_TEXT = "Deno" in globalThis;

/** The head up to the Content-Length value. */
const HEAD_START = "HTTP/1.1 200 OK\r\ncontent-type: text/plain;charset=UTF-8\r\ncontent-length: ";

/**
 * The Fetch floor's answer to `GET /`: the app's Response, its body read the
 * cheapest public way (see READS_TEXT), behind a minimal head.
 */
export async function fetchAnswer(): Promise<Uint8Array> {
  const response = await handler(FLOOR_REQUEST);
  if (response.status !== 200) throw new Error(`the app answered ${response.status}`);
  if (READS_TEXT) {
    const text = await response.text();
    // The app's body is ASCII: its length in characters is its length in bytes.
    const whole = `${HEAD_START}${text.length}\r\ndate: ${currentDate()}\r\n\r\n${text}`;
    const out = new Uint8Array(whole.length);
    encoder.encodeInto(whole, out);
    return out;
  }
  const body = await response.bytes();
  const head = `${HEAD_START}${body.length}\r\ndate: ${currentDate()}\r\n\r\n`;
  const out = new Uint8Array(head.length + body.length);
  encoder.encodeInto(head, out);
  out.set(body, head.length);
  return out;
}
