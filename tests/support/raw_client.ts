/**
 * Raw connections to a server on 127.0.0.1: send bytes, wait (bounded) for
 * responses or the close, read everything received.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import { latin1, toLatin1 } from "./bytes.ts";
import { type ParsedResponse, parseResponses } from "./responses.ts";
import { withTimeout } from "./time.ts";

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
