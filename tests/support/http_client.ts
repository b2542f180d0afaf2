/**
 * A small HTTP/1.1 client over raw sockets for tests that talk to real peers
 * (our server, the runtimes' own, nginx): it writes requests exactly as given
 * and reads responses incrementally, in linear time (an 8 MiB body is fine),
 * with the framing seen on the wire. Loopback only; every wait is bounded.
 */
import { connect, type Socket } from "node:net";
import { type ParsedResponse, parseHeadText } from "./responses.ts";

/** One response as it came off the wire (the body as bytes; `text()` decodes it). */
export type Reply = Omit<ParsedResponse, "text">;

/** What to send. */
export interface Ask {
  method?: string;
  path: string;
  /** Header lines to send; `Host: test` is added unless one is given. */
  headers?: Record<string, string | string[]>;
  body?: Uint8Array | string;
}

/** The first value of a header, or undefined. */
export function header(reply: Reply, name: string): string | undefined {
  return reply.headers.get(name.toLowerCase())?.[0];
}

/** The body as UTF-8 text. */
export function text(reply: Reply): string {
  return new TextDecoder().decode(reply.body);
}

/** Request bytes for `ask`: the head as latin-1, then the body. */
export function requestBytes(ask: Ask): Uint8Array {
  const body = typeof ask.body === "string" ? new TextEncoder().encode(ask.body) : ask.body;
  const lines = [`${ask.method ?? "GET"} ${ask.path} HTTP/1.1`];
  const given = Object.keys(ask.headers ?? {}).map((n) => n.toLowerCase());
  if (!given.includes("host")) lines.push("Host: test");
  for (const [name, value] of Object.entries(ask.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  if (body !== undefined && !given.includes("content-length") && !given.includes("transfer-encoding")) {
    lines.push(`Content-Length: ${body.length}`);
  }
  const head = lines.join("\r\n") + "\r\n\r\n";
  const headBytes = Uint8Array.from(head, (c) => c.charCodeAt(0) & 0xff);
  if (body === undefined) return headBytes;
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes);
  out.set(body, headBytes.length);
  return out;
}

/** One keep-alive connection; requests are sent one at a time, each reply read before the next request. */
export class Connection {
  readonly socket: Socket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  /** Ms each wait for more bytes may take. */
  timeoutMs: number;

  private constructor(socket: Socket, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    socket.on("data", (d: Uint8Array) => {
      this.#chunks.push(d);
      this.#buffered += d.length;
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (e: Error) => {
      this.#error = e;
      this.#notify();
    });
  }

  /** Connects to 127.0.0.1:port (from `localAddress` when given, another loopback address say). */
  static open(port: number, options: { localAddress?: string; timeoutMs?: number } = {}): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port, localAddress: options.localAddress, allowHalfOpen: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${port} timed out`));
      }, 5000);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new Connection(socket, options.timeoutMs ?? 15000));
      });
      socket.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** The local port of this connection. */
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Whether the peer has closed. */
  get ended(): boolean {
    return this.#ended;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Waits for more bytes (or the end); throws after `timeoutMs`. */
  async #more(what: string): Promise<void> {
    if (this.#error) throw this.#error;
    if (this.#ended) throw new Error(`connection closed while reading ${what}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        reject(new Error(`timed out after ${this.timeoutMs} ms reading ${what}`));
      }, this.timeoutMs);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    if (this.#error) throw this.#error;
  }

  /** All buffered bytes as one array (kept as one). */
  #joined(): Uint8Array {
    if (this.#chunks.length !== 1) {
      const out = new Uint8Array(this.#buffered);
      let o = 0;
      for (const c of this.#chunks) (out.set(c, o), o += c.length);
      this.#chunks = [out];
    }
    return this.#chunks[0] ?? new Uint8Array(0);
  }

  #take(n: number): Uint8Array {
    const all = this.#joined();
    const out = all.slice(0, n);
    this.#chunks = [all.subarray(n)];
    this.#buffered -= n;
    return out;
  }

  /** Reads up to and including the next CRLF (or CRLFCRLF when `blank`), returning it without the terminator. */
  async #until(terminator: string, what: string): Promise<string> {
    let from = 0;
    for (;;) {
      const all = this.#joined();
      const at = indexOf(all, terminator, Math.max(0, from - terminator.length));
      if (at >= 0) {
        const line = this.#take(at + terminator.length);
        return String.fromCharCode(...line.subarray(0, at));
      }
      from = all.length;
      await this.#more(what);
    }
  }

  /** Reads exactly n bytes. */
  async #exactly(n: number, what: string): Promise<Uint8Array> {
    while (this.#buffered < n) await this.#more(what);
    return this.#take(n);
  }

  /** Sends raw bytes. */
  write(data: Uint8Array | string): void {
    this.socket.write(data);
  }

  /** Reads one response head (interim 1xx responses are skipped). */
  async readHead(): Promise<Omit<Reply, "body" | "framing">> {
    for (;;) {
      const head = parseHeadText(await this.#until("\r\n\r\n", "response head"));
      if (head.status >= 100 && head.status < 200) continue;
      return head;
    }
  }

  /**
   * Reads a body after `readHead`, passing each piece to `onData` as it arrives
   * (chunk by chunk for chunked framing), and returns the whole body.
   */
  async readBody(
    head: Omit<Reply, "body" | "framing">,
    method: string,
    onData?: (piece: Uint8Array) => void,
  ): Promise<Reply> {
    const te = head.headers.get("transfer-encoding")?.[0];
    const cl = head.headers.get("content-length")?.[0];
    const pieces: Uint8Array[] = [];
    const got = (p: Uint8Array) => {
      if (p.length === 0) return;
      pieces.push(p);
      onData?.(p);
    };
    let framing: string;
    if (method === "HEAD" || head.status === 204 || head.status === 304) framing = "none";
    else if (te !== undefined) {
      framing = "chunked";
      for (;;) {
        const size = parseInt(await this.#until("\r\n", "chunk size"), 16);
        if (size === 0) {
          while ((await this.#until("\r\n", "trailer")) !== "");
          break;
        }
        got(await this.#exactly(size, "chunk"));
        await this.#exactly(2, "chunk end");
      }
    } else if (cl !== undefined) {
      framing = "length";
      let left = Number(cl);
      while (left > 0) {
        if (this.#buffered === 0) await this.#more("body");
        const piece = this.#take(Math.min(left, this.#buffered));
        left -= piece.length;
        got(piece);
      }
    } else {
      framing = "close";
      for (;;) {
        if (this.#buffered > 0) got(this.#take(this.#buffered));
        if (this.#ended) break;
        await this.#more("close-delimited body").catch((e) => {
          if (!this.#ended) throw e;
        });
      }
    }
    const total = pieces.reduce((n, p) => n + p.length, 0);
    const body = new Uint8Array(total);
    let o = 0;
    for (const p of pieces) (body.set(p, o), o += p.length);
    return { ...head, body, framing };
  }

  /** Sends `ask` and reads the whole reply. */
  async request(ask: Ask): Promise<Reply> {
    this.write(requestBytes(ask));
    return await this.readBody(await this.readHead(), ask.method ?? "GET");
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }
}

function indexOf(haystack: Uint8Array, needle: string, from: number): number {
  const first = needle.charCodeAt(0);
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    if (haystack[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle.charCodeAt(j)) continue outer;
    return i;
  }
  return -1;
}

/** One request on a fresh connection, closed afterwards. */
export async function fetchRaw(port: number, ask: Ask, options: { localAddress?: string } = {}): Promise<Reply> {
  const conn = await Connection.open(port, options);
  try {
    return await conn.request(ask);
  } finally {
    conn.close();
  }
}
