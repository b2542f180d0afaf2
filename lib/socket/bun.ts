/**
 * The socket contract over `Bun.listen`. Bun writes straight to the kernel
 * and returns how much it took, so this adapter owns the outbound queue and
 * flushes it (batched) on `drain`. `allowHalfOpen` keeps the socket writable
 * after the peer's FIN. TLS is `Bun.listen`'s own: the socket callbacks then
 * carry decrypted bytes, and `handshake` says how the handshake went.
 *
 * @module
 */
import { AcceptGate } from "./accept_gate.ts";
import type {
  Connection,
  ConnectionHandlers,
  Listener,
  ListenSpec,
  SocketAddress,
  SocketRuntime,
  TlsConfig,
  TlsInfo,
} from "./types.ts";
import { subjectOf } from "./peer_cert.ts";
import { UNIX_PEER, WRITE_BATCH, WRITE_HIGH_WATER } from "./types.ts";

/** ALPN as Bun wants it, in wire format (length-prefixed): an array throws and plain text breaks the handshake. */
const ALPN = "\x08http/1.1";

/** The few `Bun` APIs used here, typed locally so Deno and Node can check and strip-run this file. */
interface BunSocket {
  data: BunConnection;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  /** Bytes the kernel took; less when its buffer is full; -1 when closed or shutting down. */
  write(data: Uint8Array): number;
  /** Closes both directions (after the kernel sends what it holds); `close` fires synchronously. */
  end(): unknown;
  pause(): unknown;
  resume(): unknown;
  setNoDelay(noDelay?: boolean): unknown;
  /** TLS sockets only. */
  getTLSVersion?(): string | null;
  getPeerCertificate?(): { raw?: Uint8Array } | null | undefined;
  readonly authorized?: boolean;
}
interface BunSocketHandlers {
  open(socket: BunSocket): void;
  data(socket: BunSocket, chunk: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, error?: Error): void;
  error(socket: BunSocket, error: Error): void;
  handshake(socket: BunSocket, success: boolean, authorizationError: Error | null): void;
}
interface BunServer {
  readonly hostname?: string;
  readonly port?: number;
  stop(closeActiveConnections?: boolean): void;
}
interface BunTlsOptions {
  cert: string;
  key: string;
  ca?: string;
  requestCert: boolean;
  rejectUnauthorized: boolean;
  ALPNProtocols: string;
}
interface BunListenBase {
  allowHalfOpen: boolean;
  socket: BunSocketHandlers;
  tls?: BunTlsOptions;
}
interface BunLike {
  listen(
    options:
      & BunListenBase
      & ({ hostname: string; port: number; backlog?: number; ipv6Only?: boolean } | { unix: string }),
  ): BunServer;
}

class BunConnection implements Connection {
  readonly remote: SocketAddress;
  readonly #socket: BunSocket;
  #handlers: ConnectionHandlers | undefined;
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #needDrain = false;
  #closeWhenFlushed = false;
  #readEnded = false;
  #readPaused = false;
  #socketPaused = false;
  /** Bytes (copied) and EOF that arrived while not delivering: before start() or while paused. */
  #held: Uint8Array[] = [];
  #endHeld = false;
  #error: unknown;
  #closed = false;
  #tls: TlsInfo | undefined;

  /** True once the socket is gone (parked sockets that died are skipped at hand-over). */
  get closed(): boolean {
    return this.#closed;
  }

  constructor(socket: BunSocket, transport: "tcp" | "unix") {
    this.#socket = socket;
    this.remote = transport === "unix"
      ? UNIX_PEER
      : { transport: "tcp", hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
  }

  get tls(): TlsInfo | undefined {
    return this.#tls;
  }

  /** Bun's `handshake` callback (TLS listeners): no bytes are delivered before it. */
  handshake(success: boolean, error: Error | null): void {
    const socket = this.#socket;
    if (!success) {
      // Bun then closes without an error of its own; this is what onClose reports (and logSocketErrors logs).
      const code = (error as { code?: string } | null)?.code;
      this.#error ??= Object.assign(new Error(`TLS handshake failed: ${error?.message ?? code ?? "unknown"}`), {
        code,
        cause: error,
      });
      return;
    }
    const protocol = socket.getTLSVersion?.() ?? "";
    const peerSubject = socket.authorized ? subjectOf(socket.getPeerCertificate?.()?.raw) : undefined;
    this.#tls = peerSubject === undefined ? { protocol } : { protocol, peerSubject };
  }

  start(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    if (!this.#readPaused) this.resumeReading();
  }

  /** Bun's `data` callback. */
  data(chunk: Uint8Array): void {
    if (this.#closed) return;
    if (this.#handlers === undefined || this.#readPaused || this.#held.length > 0) {
      // Bun may reuse the chunk's memory after the callback; Buffer#slice would only be a view.
      this.#held.push(new Uint8Array(chunk));
      return;
    }
    this.#handlers.onData(chunk);
  }

  /** Bun's `end` callback: the peer's FIN. */
  end(): void {
    if (this.#closed || this.#readEnded) return;
    this.#readEnded = true;
    if (this.#handlers === undefined || this.#readPaused || this.#held.length > 0) this.#endHeld = true;
    else this.#deliverEnd();
  }

  #deliverEnd(): void {
    this.#endHeld = false;
    this.#handlers!.onEnd();
  }

  /** Bun's `close` callback, which also reports resets. Fires exactly once per socket. */
  closeEvent(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#buffered = 0;
    this.#held = [];
    const handlers = this.#handlers;
    if (handlers === undefined) return; // parked and never handed over
    error ??= this.#error;
    // Bun fires `close` inside end(); deferring keeps onClose out of our callers' stacks, as on Node.
    queueMicrotask(() => handlers.onClose(error));
  }

  errorEvent(error: unknown): void {
    this.#error ??= error;
  }

  write(data: Uint8Array): boolean {
    if (this.#closed || this.#closeWhenFlushed) return false;
    if (this.#buffered === 0) {
      // Happy path: the kernel takes it all, nothing is copied or queued.
      const n = this.#socket.write(data);
      if (n === data.length) return true;
      if (n < 0) return false; // closing: the close callback follows
      this.#queue.push(n === 0 ? data : data.subarray(n));
      this.#buffered = data.length - n;
    } else {
      this.#queue.push(data);
      this.#buffered += data.length;
    }
    if (this.#buffered < WRITE_HIGH_WATER) return true;
    this.#needDrain = true;
    return false;
  }

  readonly gathersWrites = false;

  /** Bun has no gathered write: each piece in turn; the last answer counts (back-pressure only grows). */
  writev(parts: readonly Uint8Array[]): boolean {
    let ok = true;
    for (let i = 0; i < parts.length; i++) ok = this.write(parts[i]);
    return ok;
  }

  get bufferedAmount(): number {
    return this.#buffered;
  }

  /** Bun's `drain` callback (also fired spuriously, e.g. after a resume or the peer's FIN). */
  flush(): void {
    const q = this.#queue;
    while (q.length > 0) {
      if (q.length > 1 && q[0].length < WRITE_BATCH) this.#merge();
      const chunk = q[0];
      const n = this.#socket.write(chunk);
      if (n < 0) return;
      this.#buffered -= n;
      if (n < chunk.length) {
        q[0] = chunk.subarray(n);
        return; // the kernel is full: wait for the next drain
      }
      q.shift();
    }
    if (this.#closed) return;
    if (this.#needDrain) {
      this.#needDrain = false;
      this.#handlers?.onDrain();
      if (this.#buffered > 0 || this.#closed) return;
    }
    if (this.#closeWhenFlushed) this.#socket.end();
  }

  /** Merges the small chunks at the head of the queue into one. */
  #merge(): void {
    const q = this.#queue;
    let count = 1;
    let size = q[0].length;
    while (count < q.length && size + q[count].length <= WRITE_BATCH) size += q[count++].length;
    if (count === 1) return;
    const merged = new Uint8Array(size);
    for (let i = 0, off = 0; i < count; off += q[i].length, i++) merged.set(q[i], off);
    q.splice(0, count, merged);
  }

  pauseReading(): void {
    if (this.#readPaused) return;
    this.#readPaused = true;
    if (!this.#closed) {
      this.#socketPaused = true;
      this.#socket.pause();
    }
  }

  resumeReading(): void {
    this.#readPaused = false;
    if (this.#closed || this.#handlers === undefined) return;
    if (this.#socketPaused) {
      this.#socketPaused = false;
      this.#socket.resume();
    }
    // Held bytes go out later, never inside the caller's resumeReading() (as on Node and Deno).
    if (this.#held.length > 0 || this.#endHeld) queueMicrotask(() => this.#deliverHeld());
  }

  #deliverHeld(): void {
    const handlers = this.#handlers!;
    try {
      while (this.#held.length > 0 && !this.#readPaused && !this.#closed) handlers.onData(this.#held.shift()!);
      if (this.#held.length === 0 && this.#endHeld && !this.#readPaused && !this.#closed) this.#deliverEnd();
    } catch (error) {
      this.fail(error);
    }
  }

  /** A handler threw: drop the connection and report the error through onClose. */
  fail(error: unknown): void {
    this.#error ??= error;
    this.destroy();
  }

  close(): void {
    if (this.#closed || this.#closeWhenFlushed) return;
    this.#closeWhenFlushed = true;
    if (this.#buffered === 0) this.#socket.end();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#queue = [];
    this.#buffered = 0;
    this.#socket.end(); // close(2): what the kernel already holds may still go out, like Node's destroy()
  }
}

/** The handler object Bun shares across all sockets of a listener; state lives in `socket.data`. */
class BunListener implements Listener {
  readonly address: SocketAddress;
  #server: BunServer | undefined;
  readonly #onConnection: (conn: Connection) => void;
  readonly #transport: "tcp" | "unix";
  readonly #spec: ListenSpec;
  readonly #handlers: BunSocketHandlers;
  #tls: TlsConfig | undefined;
  readonly #gate = new AcceptGate<BunConnection>();

  constructor(spec: ListenSpec, onConnection: (conn: Connection) => void) {
    this.#onConnection = onConnection;
    this.#transport = spec.transport;
    this.#spec = spec;
    this.#tls = spec.transport === "tcp" ? spec.tls : undefined;
    this.#handlers = {
      open: (socket) => this.#accept(socket),
      // A throwing handler kills only its connection (onClose gets the error), as on Deno and Node.
      data: (socket, chunk) => {
        try {
          socket.data.data(chunk);
        } catch (error) {
          socket.data.fail(error);
        }
      },
      drain: (socket) => {
        try {
          socket.data.flush();
        } catch (error) {
          socket.data.fail(error);
        }
      },
      end: (socket) => {
        try {
          socket.data.end();
        } catch (error) {
          socket.data.fail(error);
        }
      },
      close: (socket, error) => socket.data?.closeEvent(error),
      error: (socket, error) => socket.data?.errorEvent(error),
      handshake: (socket, success, error) => socket.data?.handshake(success, error),
    };
    const server = this.#bind(spec.transport === "tcp" ? spec.port : 0, this.#tls);
    this.#server = server;
    this.address = spec.transport === "unix"
      ? { transport: "unix", hostname: spec.path, port: 0 }
      : { transport: "tcp", hostname: server.hostname ?? spec.hostname, port: server.port ?? spec.port };
  }

  #bind(port: number, tls: TlsConfig | undefined): BunServer {
    const spec = this.#spec;
    const socket = this.#handlers;
    const bun = (globalThis as unknown as { Bun: BunLike }).Bun;
    if (spec.transport === "unix") return bun.listen({ unix: spec.path, allowHalfOpen: true, socket });
    return bun.listen({
      hostname: spec.hostname,
      port,
      backlog: spec.backlog,
      ipv6Only: spec.ipv6Only === true && spec.hostname.includes(":"),
      allowHalfOpen: true,
      socket,
      tls: tls === undefined ? undefined : {
        cert: tls.cert,
        key: tls.key,
        ca: tls.ca,
        requestCert: tls.requestCert,
        rejectUnauthorized: tls.rejectUnauthorized,
        ALPNProtocols: ALPN,
      },
    });
  }

  /**
   * Bun cannot change a listener's certificate (`reload` swaps handlers only),
   * so the listener is bound again on the same port, in the same tick. Open
   * connections stay; connections still in the old socket's accept queue are
   * reset by the kernel. If binding fails, the old certificate keeps serving.
   */
  reloadTls(config: TlsConfig): void {
    const old = this.#server;
    if (this.#tls === undefined || old === undefined) return;
    old.stop(false);
    try {
      this.#server = this.#bind(this.address.port, config);
      this.#tls = config;
    } catch (error) {
      this.#server = this.#bind(this.address.port, this.#tls);
      throw error;
    }
  }

  #accept(socket: BunSocket): void {
    const conn = new BunConnection(socket, this.#transport);
    socket.data = conn;
    if (this.#transport === "tcp") socket.setNoDelay(true);
    if (this.#gate.park(conn)) {
      // Bun cannot stop accepting: park the socket unread, so TCP pushes back on the client.
      conn.pauseReading();
    } else {
      this.#onConnection(conn);
    }
  }

  pauseAccepting(): void {
    this.#gate.pause();
  }

  resumeAccepting(): void {
    this.#gate.resume((conn) => {
      if (conn.closed) return; // the client gave up while parked
      conn.resumeReading(); // before start(), so start() delivers what was held
      this.#onConnection(conn);
    });
  }

  close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    // Parked sockets were never handed over, so nobody else would ever close them.
    for (const conn of this.#gate.takeParked()) conn.destroy();
    server?.stop(false); // stops listening (and removes a unix socket file); connections stay
    return Promise.resolve();
  }
}

const ERRNO_TEXT: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EACCES: "permission denied",
  EADDRNOTAVAIL: "address not available",
  ENOENT: "no such file or directory",
};

function listen(spec: ListenSpec, onConnection: (conn: Connection) => void): Promise<Listener> {
  try {
    return Promise.resolve(new BunListener(spec, onConnection));
  } catch (error) {
    // Bun says only "Failed to listen at 127.0.0.1"; the reason is in `code`.
    const code = (error as { code?: string }).code;
    const where = spec.transport === "unix"
      ? `unix:${spec.path}`
      : spec.hostname.includes(":")
      ? `[${spec.hostname}]:${spec.port}`
      : `${spec.hostname}:${spec.port}`;
    const reason = (code && ERRNO_TEXT[code]) ?? (error instanceof Error ? error.message : String(error));
    const err = new Error(`cannot listen on ${where}: ${reason}${code ? ` (${code})` : ""}`, { cause: error });
    return Promise.reject(Object.assign(err, { code }));
  }
}

/** The Bun.listen implementation of the socket contract. */
export const bunSocketRuntime: SocketRuntime = { name: "bun", listen };
