/**
 * Test helpers: start `serve()` on 127.0.0.1, talk raw bytes to it, and
 * parse what comes back. Loopback only; every wait is bounded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import process from "node:process";
import { serve } from "../mod.ts";
import type { App, ServeInit, Server } from "../mod.ts";

/** A server started for one test. */
export interface TestServer {
  server: Server;
  port: number;
  /** Collected log lines. */
  logs: string[];
  stop(): Promise<void>;
}

/** Starts `serve(app)` on 127.0.0.1 with a free port and a logger that records lines. */
export async function startServer(app: App, options: ServeInit = {}): Promise<TestServer> {
  const logs: string[] = [];
  const server = serve(app, {
    listen: "127.0.0.1:0",
    logger: {
      info: (m) => logs.push("INFO " + m),
      warn: (m) => logs.push("WARN " + m),
      error: (m) => logs.push("ERROR " + m),
    },
    ...options,
  });
  await server.ready;
  const port = server.addrs[0].port;
  return { server, port, logs, stop: () => withTimeout(server.close(), 5000, "server.close") };
}

/** Rejects if `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An open raw connection that accumulates what the server sends. */
export class RawClient {
  socket: Socket;
  received: Uint8Array = new Uint8Array(0);
  ended = false;
  closed = false;
  error: Error | null = null;
  #waiters: Array<() => void> = [];

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (d: Uint8Array) => {
      const merged = new Uint8Array(this.received.length + d.length);
      merged.set(this.received, 0);
      merged.set(d, this.received.length);
      this.received = merged;
      this.#wake();
    });
    socket.on("end", () => {
      this.ended = true;
      this.#wake();
    });
    socket.on("error", (e: Error) => {
      this.error = e;
      this.#wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
  }

  /** Opens a connection to 127.0.0.1:port. */
  static open(port: number): Promise<RawClient> {
    return withTimeout(
      new Promise((resolve, reject) => {
        const s = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
        s.once("connect", () => resolve(new RawClient(s)));
        s.once("error", reject);
      }),
      5000,
      "connect",
    );
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Sends bytes (a string is sent as latin-1). */
  send(data: string | Uint8Array): void {
    this.socket.write(typeof data === "string" ? latin1(data) : data);
  }

  /** Waits until `predicate` holds or the connection ends (then checks once more), within `ms`. */
  async waitFor(predicate: () => boolean, ms = 5000, what = "condition"): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (this.closed || this.ended) {
        if (predicate()) return;
        throw new Error(`connection ended before ${what}; got: ${JSON.stringify(this.text())}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got: ${JSON.stringify(this.text())}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for `count` complete responses and returns them. */
  async responses(count: number, ms = 5000, head = false): Promise<ParsedResponse[]> {
    let parsed: ParsedResponse[] = [];
    await this.waitFor(
      () => {
        parsed = parseResponses(this.received, this.ended || this.closed, head);
        return parsed.length >= count;
      },
      ms,
      `${count} responses`,
    );
    return parsed.slice(0, count);
  }

  /** Waits for the server to close (EOF or reset). */
  async waitClosed(ms = 5000): Promise<void> {
    await this.waitFor(() => this.ended || this.closed, ms, "close");
  }

  /** Everything received, as latin-1 text. */
  text(): string {
    return toLatin1(this.received);
  }

  /** Closes our side. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends `data` on a fresh connection and returns the parsed responses (`count` of them). */
export async function exchange(port: number, data: string | Uint8Array, count = 1): Promise<ParsedResponse[]> {
  const client = await RawClient.open(port);
  try {
    client.send(data);
    return await client.responses(count);
  } finally {
    client.destroy();
  }
}

/** One response as read off the wire. */
export interface ParsedResponse {
  version: string;
  status: number;
  reason: string;
  /** Header lines in wire order: [Name-as-sent, value]. */
  rawHeaders: Array<[string, string]>;
  /** Lower-cased name -> values. */
  headers: Map<string, string[]>;
  body: Uint8Array;
  text: string;
  /** "length", "chunked", "close" or "none". */
  framing: string;
}

/** Latin-1 bytes of a string. */
export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** A string with one char per byte. */
export function toLatin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 8192)));
  }
  return s;
}

function indexOfCrlfCrlf(buf: Uint8Array, from: number): number {
  for (let i = from; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/** A response head (status line and header lines, without the blank line) as its parts. */
export function parseHeadText(
  headText: string,
): Pick<ParsedResponse, "version" | "status" | "reason" | "rawHeaders" | "headers"> {
  const [statusLine, ...lines] = headText.split("\r\n");
  const m = statusLine.match(/^HTTP\/(\d\.\d) (\d{3}) ?(.*)$/);
  if (!m) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const rawHeaders: Array<[string, string]> = [];
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    rawHeaders.push([name, value]);
    const key = name.toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), value]);
  }
  return { version: m[1], status: Number(m[2]), reason: m[3], rawHeaders, headers };
}

/**
 * Parses as many complete responses as `buf` holds. A close-delimited body
 * counts only once `eof` is true. Interim 1xx responses are returned too.
 */
export function parseResponses(buf: Uint8Array, eof: boolean, headRequest = false): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = indexOfCrlfCrlf(buf, pos);
    if (end < 0) break;
    const { version, status, reason, rawHeaders, headers } = parseHeadText(toLatin1(buf.subarray(pos, end)));
    let bodyStart = end + 4;
    let body = new Uint8Array(0);
    let framing = "none";
    const te = headers.get("transfer-encoding")?.[0];
    const cl = headers.get("content-length")?.[0];
    if (status < 200 || status === 204 || status === 304 || headRequest) {
      framing = "none";
    } else if (te === "chunked") {
      framing = "chunked";
      const chunks: Uint8Array[] = [];
      let p = bodyStart;
      let complete = false;
      for (;;) {
        let lineEnd = -1;
        for (let i = p; i + 1 < buf.length; i++) if (buf[i] === 13 && buf[i + 1] === 10) (lineEnd = i, i = buf.length);
        if (lineEnd < 0) break;
        const size = parseInt(toLatin1(buf.subarray(p, lineEnd)), 16);
        if (size === 0) {
          if (lineEnd + 4 <= buf.length) {
            p = lineEnd + 4;
            complete = true;
          }
          break;
        }
        if (lineEnd + 2 + size + 2 > buf.length) break;
        chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
      }
      if (!complete) break;
      body = concatBytes(chunks);
      bodyStart = p;
    } else if (cl !== undefined) {
      framing = "length";
      const n = Number(cl);
      if (bodyStart + n > buf.length) break;
      body = buf.slice(bodyStart, bodyStart + n);
      bodyStart += n;
    } else {
      framing = "close";
      if (!eof) break;
      body = buf.slice(bodyStart);
      bodyStart = buf.length;
    }
    out.push({
      version,
      status,
      reason,
      rawHeaders,
      headers,
      body,
      text: new TextDecoder().decode(body),
      framing,
    });
    pos = bodyStart;
    if (status === 100) continue;
  }
  return out;
}

function concatBytes(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends one request over a fresh tcp or unix connection and resolves with everything received until EOF. */
export function roundTrip(
  to: { path: string } | { host: string; port: number },
  request = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const sock = connect(to);
      let got = "";
      sock.on("data", (d: Uint8Array) => (got += toLatin1(d)));
      sock.on("end", () => resolve(got));
      sock.on("error", reject);
      sock.write(request);
    }),
    5000,
    `request to ${JSON.stringify(to)}`,
  );
}

/** How a child process ended and what it printed. */
export interface ProcessResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`) and collects its output. */
export function runToEnd(
  cmd: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs: number },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const env = options.env ?? { ...process.env, NO_COLOR: "1" };
    const child = spawn(cmd, args, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Signals a child by pid. (Deno's ChildProcess reports `signal: "SIGTERM"` and
 * no exit code for any child it sent a signal to with kill(), even when the
 * child handled it and exited 0; process.kill leaves the real status visible.)
 */
export function sendSignal(child: ChildProcess, signal: "SIGTERM" | "SIGINT"): void {
  if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, signal);
}
