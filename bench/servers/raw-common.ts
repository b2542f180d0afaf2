/**
 * Shared by the socket-floor servers (raw-net.mjs on Node and Deno, raw-bun.ts
 * on Bun): how they find requests and what they answer. They look at each
 * byte once and keep nothing: a request ends at its blank line, or, when its
 * head carried a Content-Length, once that many body bytes went by (received
 * and dropped, where a real server would keep them).
 *
 * @module
 */

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

  /** Scans `chunk`; the requests it completes are listed in `completed` (cleared first). */
  feed(chunk: Uint8Array): void {
    this.completed.length = 0;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, n - i);
        this.#bodyLeft -= take;
        i += take;
        if (this.#bodyLeft === 0) {
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
    if (this.#length > 0) this.#bodyLeft = this.#length;
    else this.completed.push(0);
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
