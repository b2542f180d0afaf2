/**
 * The socket contract over `Deno.listen`: an explicit accept loop, a read
 * loop into a reused buffer, and a write queue with one `conn.write` in
 * flight (Deno's writes may be partial, so each one loops).
 *
 * @module
 */
import type { Connection, ConnectionHandlers, Listener, ListenSpec, SocketAddress, SocketRuntime } from "./types.ts";
import { UNIX_PEER, WRITE_BATCH, WRITE_HIGH_WATER, writeEach } from "./types.ts";

/** The few `Deno` APIs used here, typed locally so Node and Bun can strip-run this file. */
interface DenoAddr {
  transport: string;
  hostname?: string;
  port?: number;
  path?: string | null;
}
interface DenoConn {
  readonly remoteAddr: DenoAddr;
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
}
interface DenoListener {
  readonly addr: DenoAddr;
  accept(): Promise<DenoConn>;
  close(): void;
}
interface DenoLike {
  listen(
    options: { transport: "tcp"; hostname: string; port: number; tcpBacklog?: number } | {
      transport: "unix";
      path: string;
    },
  ): DenoListener;
}

/** First read buffer: enough for most request heads, and small: an idle keep-alive connection holds it in its pending read. */
const SMALL_READ = 4 * 1024;
/** A connection that fills the small buffer (an upload) switches to this one. */
const LARGE_READ = 64 * 1024;

class DenoConnection implements Connection {
  readonly remote: SocketAddress;
  readonly #conn: DenoConn;
  #handlers: ConnectionHandlers | undefined;
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #inFlight: Uint8Array | undefined;
  #needDrain = false;
  /** closeWrite or close was asked for: later writes are no-ops. */
  #writeEnding = false;
  #closeWhenFlushed = false;
  #writeShut = false;
  #readEnded = false;
  #readPaused = false;
  #resumeRead: (() => void) | undefined;
  #closed = false;

  /** True once the socket is gone (parked sockets that died are skipped at hand-over). */
  get closed(): boolean {
    return this.#closed;
  }

  constructor(conn: DenoConn) {
    this.#conn = conn;
    const addr = conn.remoteAddr;
    this.remote = addr.transport === "unix"
      ? UNIX_PEER
      : { transport: "tcp", hostname: addr.hostname ?? "", port: addr.port ?? 0 };
  }

  start(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const conn = this.#conn;
    let buf = new Uint8Array(SMALL_READ);
    try {
      while (!this.#closed) {
        // Not reading is the back-pressure: the kernel buffers fill and TCP pushes back on the peer.
        while (this.#readPaused) await new Promise<void>((resolve) => (this.#resumeRead = resolve));
        if (this.#closed) return;
        const n = await conn.read(buf);
        // A pause asked for while the read was pending still holds this chunk back.
        while (this.#readPaused && !this.#closed) {
          await new Promise<void>((resolve) => (this.#resumeRead = resolve));
        }
        if (this.#closed) return;
        if (n === null) {
          this.#readEnded = true;
          this.#handlers!.onEnd();
          if (this.#writeShut) this.#finish();
          return;
        }
        this.#handlers!.onData(buf.subarray(0, n));
        if (n === buf.length && buf.length < LARGE_READ) buf = new Uint8Array(LARGE_READ);
      }
    } catch (error) {
      // After our own close, the pending read fails with BadResource/Interrupted: not an error.
      this.#finish(error);
    }
  }

  write(data: Uint8Array): boolean {
    if (this.#closed || this.#writeEnding) return false;
    this.#buffered += data.length;
    // Happy path: straight to the runtime, no queue, no copy.
    if (this.#inFlight === undefined) this.#send(data);
    else this.#queue.push(data);
    if (this.#buffered < WRITE_HIGH_WATER) return true;
    this.#needDrain = true;
    return false;
  }

  readonly gathersWrites = false;

  writev(parts: readonly Uint8Array[]): boolean {
    return writeEach(this, parts);
  }

  get bufferedAmount(): number {
    return this.#buffered;
  }

  /** Takes the next chunk off the queue, merging small ones so one op carries them. */
  #next(): Uint8Array {
    const q = this.#queue;
    const first = q[0];
    let count = 1;
    let size = first.length;
    while (count < q.length && size + q[count].length <= WRITE_BATCH) size += q[count++].length;
    if (count === 1) {
      q.shift();
      return first;
    }
    const merged = new Uint8Array(size);
    for (let i = 0, off = 0; i < count; off += q[i].length, i++) merged.set(q[i], off);
    q.splice(0, count);
    return merged;
  }

  /** One write in flight; `.then` with per-connection callbacks is cheaper than an async loop here. */
  #send(chunk: Uint8Array): void {
    this.#inFlight = chunk;
    try {
      this.#conn.write(chunk).then(this.#written, this.#writeFailed);
    } catch (error) {
      this.#finish(error); // a resource that vanished under us throws synchronously
    }
  }

  readonly #written = (n: number): void => {
    if (this.#closed) return;
    this.#buffered -= n;
    const chunk = this.#inFlight!;
    if (n < chunk.length) return this.#send(chunk.subarray(n)); // partial write: documented, loop
    this.#inFlight = undefined;
    if (this.#queue.length > 0) return this.#send(this.#next());
    if (this.#needDrain) {
      this.#needDrain = false;
      try {
        this.#handlers?.onDrain(); // may write more
      } catch (error) {
        return this.#finish(error); // never an unhandled rejection
      }
      if (this.#inFlight !== undefined || this.#closed) return;
    }
    if (this.#closeWhenFlushed) this.#finish();
    else if (this.#writeEnding && !this.#writeShut) void this.#shutdown();
  };

  readonly #writeFailed = (error: unknown): void => this.#finish(error);

  async #shutdown(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      this.#finish(error);
      return;
    }
    this.#writeShut = true;
    if (this.#readEnded) this.#finish();
  }

  pauseReading(): void {
    this.#readPaused = true;
  }

  resumeReading(): void {
    this.#readPaused = false;
    const resume = this.#resumeRead;
    this.#resumeRead = undefined;
    resume?.();
  }

  closeWrite(): void {
    if (this.#closed || this.#writeEnding) return;
    this.#writeEnding = true;
    if (this.#inFlight === undefined) void this.#shutdown();
  }

  close(): void {
    if (this.#closed || this.#closeWhenFlushed) return;
    this.#writeEnding = true;
    this.#closeWhenFlushed = true;
    if (this.#inFlight === undefined) this.#finish();
  }

  destroy(): void {
    this.#finish();
  }

  /** The single way out: closes the resource once and reports onClose once. */
  #finish(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#buffered = 0;
    try {
      this.#conn.close(); // also cancels a pending read or write
    } catch {
      // already closed by the runtime
    }
    this.resumeReading(); // lets a parked read loop see `closed` and return
    const handlers = this.#handlers;
    // Deferred, so onClose never runs inside the caller's close()/destroy() (node:net's 'close' is async too).
    if (handlers) queueMicrotask(() => handlers.onClose(error));
  }
}

class DenoListenerAdapter implements Listener {
  readonly address: SocketAddress;
  readonly #listener: DenoListener;
  readonly #onConnection: (conn: Connection) => void;
  #paused = false;
  #resume: (() => void) | undefined;
  #parked: DenoConnection[] = [];
  #closed = false;
  readonly #loop: Promise<void>;

  constructor(listener: DenoListener, onConnection: (conn: Connection) => void) {
    this.#listener = listener;
    this.#onConnection = onConnection;
    const addr = listener.addr;
    this.address = addr.transport === "unix"
      ? { transport: "unix", hostname: addr.path ?? "", port: 0 }
      : { transport: "tcp", hostname: addr.hostname ?? "", port: addr.port ?? 0 };
    this.#loop = this.#acceptLoop();
  }

  /** An explicit accept() loop: `for await` would close the listener on break (see peers.md 2.2). */
  async #acceptLoop(): Promise<void> {
    while (!this.#closed) {
      // While paused, new clients wait in the kernel backlog.
      while (this.#paused && !this.#closed) await new Promise<void>((resolve) => (this.#resume = resolve));
      if (this.#closed) return;
      let conn: DenoConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        if (this.#closed) return;
        // EMFILE and friends: back off instead of spinning; the backlog keeps the clients.
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      if (this.#closed) {
        conn.close();
        return;
      }
      try {
        conn.setNoDelay?.(true);
      } catch {
        // unix sockets, or a peer already gone
      }
      const c = new DenoConnection(conn);
      // A pause that came while accept() was pending: hold this one until resume.
      if (this.#paused) this.#parked.push(c);
      else this.#onConnection(c);
    }
  }

  pauseAccepting(): void {
    this.#paused = true;
  }

  resumeAccepting(): void {
    this.#paused = false;
    while (this.#parked.length > 0 && !this.#paused) this.#onConnection(this.#parked.shift()!);
    if (this.#paused) return;
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#listener.close();
      } catch {
        // already closed
      }
      for (const c of this.#parked) c.destroy();
      this.#parked = [];
      this.#resume?.();
    }
    // The resource (and a unix socket file) is only released once the pending accept() has failed.
    return this.#loop;
  }
}

function listen(spec: ListenSpec, onConnection: (conn: Connection) => void): Promise<Listener> {
  const deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
  let listener: DenoListener;
  try {
    // Deno has no IPV6_V6ONLY option (ipv6Only is best effort) and no backlog for unix sockets.
    listener = spec.transport === "unix"
      ? deno.listen({ transport: "unix", path: spec.path })
      : deno.listen({ transport: "tcp", hostname: spec.hostname, port: spec.port, tcpBacklog: spec.backlog });
  } catch (error) {
    const where = spec.transport === "unix"
      ? `unix:${spec.path}`
      : spec.hostname.includes(":")
      ? `[${spec.hostname}]:${spec.port}`
      : `${spec.hostname}:${spec.port}`;
    const message = error instanceof Error ? error.message : String(error);
    return Promise.reject(new Error(`cannot listen on ${where}: ${message}`, { cause: error }));
  }
  return Promise.resolve(new DenoListenerAdapter(listener, onConnection));
}

/** The Deno.listen implementation of the socket contract. */
export const denoSocketRuntime: SocketRuntime = { name: "deno", listen };
