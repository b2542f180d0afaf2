/**
 * The socket contract over `node:net`, used on Node 24 and on Deno 2 (see
 * `index.ts` for why Deno uses it). Bun has its own adapter: its node:net
 * emulation has had half-close bugs. TLS wraps each accepted socket in a
 * `node:tls` TLSSocket, so the rest of this file sees the same stream API.
 *
 * @module
 */
import { AcceptGate } from "./accept_gate.ts";
import { createServer, type Server, type Socket } from "node:net";
import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
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
import { UNIX_PEER } from "./types.ts";

/** ALPN offers http/1.1 alone: a client that insists on h2 fails the handshake rather than speak it. */
const ALPN = ["http/1.1"];

/** The secure context new connections shake hands with; built once per certificate, not per connection. */
function secureContextOf(config: TlsConfig): SecureContext {
  return createSecureContext({
    cert: config.cert,
    key: config.key,
    ca: config.ca,
    minVersion: "TLSv1.2",
  });
}

/**
 * Why the client's certificate did not verify, or undefined when it did.
 * A TLSSocket made outside a tls.Server verifies the chain but never acts on
 * the result (tls.Server's own 'secure' listener does), so the adapter asks
 * the handle, as that listener does: Node answers null or an Error, Deno a
 * string ("" when it verified).
 */
function verifyError(socket: TLSSocket): string | undefined {
  const result = (socket as unknown as { ssl?: { verifyError?(): unknown } }).ssl?.verifyError?.();
  if (result === null || result === undefined || result === "") return undefined;
  if (typeof result === "string") return result;
  return String((result as { code?: unknown }).code ?? result);
}

/** A certificate was asked for: refuses an unverified one when it is required. Runs before any byte is read. */
function checkClient(socket: TLSSocket, tls: TlsConfig): void {
  const hasCert = subjectOf(socket.getPeerCertificate()?.raw) !== undefined;
  const error = hasCert ? verifyError(socket) : "no client certificate";
  if (error === undefined) verified.add(socket);
  else if (tls.rejectUnauthorized) socket.destroy(new Error(`TLS client certificate refused: ${error}`));
}

/** TLS sockets whose client certificate verified. */
const verified = new WeakSet<TLSSocket>();

/** What a TLS socket negotiated, once its handshake is done. */
function tlsInfoOf(socket: TLSSocket): TlsInfo | undefined {
  const protocol = socket.getProtocol();
  if (protocol === null || protocol === "unknown") return undefined;
  const peerSubject = verified.has(socket) ? subjectOf(socket.getPeerCertificate()?.raw) : undefined;
  return peerSubject === undefined ? { protocol } : { protocol, peerSubject };
}

/**
 * One accepted node:net socket. Node's stream layer owns the write queue and
 * the high-water mark. Also wraps sockets a supervisor handed over (`handoff.ts`).
 */
export class NodeConnection implements Connection {
  readonly remote: SocketAddress;
  readonly #socket: Socket;
  #handlers: ConnectionHandlers | undefined;
  #error: unknown;
  #closed = false;
  #readingPaused = false;
  #tls: TlsInfo | undefined;

  constructor(socket: Socket, transport: "tcp" | "unix") {
    this.#socket = socket;
    this.remote = transport === "unix" ? UNIX_PEER : {
      transport: "tcp",
      // Undefined when the peer reset before we looked; the connection is dead then anyway.
      hostname: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    };
    // Listeners go on at accept time, so a parked socket's reset is never an uncaught 'error'.
    socket.on("error", (error: unknown) => {
      this.#error ??= error;
    });
    socket.on("close", () => {
      this.#closed = true;
      const handlers = this.#handlers;
      if (handlers) handlers.onClose(this.#error);
    });
  }

  /** True once the socket is gone (used to skip parked sockets that died before hand-over). */
  get closed(): boolean {
    return this.#closed;
  }

  get tls(): TlsInfo | undefined {
    const socket = this.#socket;
    if (this.#tls === undefined && socket instanceof TLSSocket) this.#tls = tlsInfoOf(socket);
    return this.#tls;
  }

  start(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    const socket = this.#socket;
    // A few closures per connection, never one per chunk. A throwing handler kills only its
    // connection (onClose gets the error), as on Deno and Bun, instead of the process.
    socket.on("data", (chunk: Uint8Array) => {
      try {
        handlers.onData(chunk);
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    socket.on("end", () => {
      try {
        handlers.onEnd();
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    socket.on("drain", () => {
      try {
        handlers.onDrain();
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    // pauseOnConnect left the handle unread; 'end' only comes once reading runs (nodejs/node#35825).
    if (!this.#readingPaused) socket.resume();
  }

  write(data: Uint8Array): boolean {
    const socket = this.#socket;
    // Writing after end() would raise ERR_STREAM_WRITE_AFTER_END through 'error'; the contract says no-op.
    if (this.#closed || socket.destroyed || socket.writableEnded) return false;
    return socket.write(data);
  }

  readonly gathersWrites = true;

  writev(parts: readonly Uint8Array[]): boolean {
    const socket = this.#socket;
    if (this.#closed || socket.destroyed || socket.writableEnded) return false;
    // Corked writes leave as one writev at uncork(), each piece by reference.
    socket.cork();
    for (let i = 0; i < parts.length; i++) socket.write(parts[i]);
    socket.uncork();
    // Judge back-pressure after the writev: while corked, write() says false for any piece at or above the
    // high-water mark even when the kernel then takes it all at once, and waiting for 'drain' after every
    // 64 KiB chunk halved streaming throughput. ('drain' still follows a false write(): a spurious onDrain.)
    return socket.writableLength < socket.writableHighWaterMark;
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  pauseReading(): void {
    this.#readingPaused = true;
    this.#socket.pause();
  }

  resumeReading(): void {
    this.#readingPaused = false;
    if (this.#handlers) this.#socket.resume();
  }

  close(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    // Once the FIN is out, drop the read side as well: close means both directions.
    if (socket.writableFinished) {
      socket.destroy();
      return;
    }
    socket.once("finish", () => socket.destroy());
    if (!socket.writableEnded) socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/**
 * TLS around accepted node:net sockets, for one listener: ours, or one a
 * supervisor hands sockets over for (`handoff.ts`). The secure context is
 * built once per certificate, and swapped by `reload`.
 */
export class TlsWrapper {
  #config: TlsConfig;
  #context: SecureContext;

  /** The wrapper a TCP listen spec with TLS asks for; undefined for plain TCP and unix sockets. */
  static for(spec: ListenSpec): TlsWrapper | undefined {
    return spec.transport === "tcp" && spec.tls !== undefined ? new TlsWrapper(spec.tls) : undefined;
  }

  constructor(config: TlsConfig) {
    this.#config = config;
    this.#context = secureContextOf(config);
  }

  /** New connections get this certificate; open ones keep theirs. */
  reload(config: TlsConfig): void {
    this.#context = secureContextOf(config);
    this.#config = config;
  }

  /**
   * Wraps an accepted socket. pauseOnConnect: like a plain socket, it reads
   * nothing, the handshake included, until `start()` resumes it, so a parked
   * connection costs no handshake before its turn.
   */
  wrap(raw: Socket): TLSSocket {
    const tls = this.#config;
    const socket = new TLSSocket(
      raw,
      {
        isServer: true,
        secureContext: this.#context,
        requestCert: tls.requestCert,
        rejectUnauthorized: tls.rejectUnauthorized,
        ALPNProtocols: ALPN,
        pauseOnConnect: true,
      } as ConstructorParameters<typeof TLSSocket>[1],
    );
    if (tls.requestCert) socket.once("secure", () => checkClient(socket, tls));
    return socket;
  }
}

/** A node:net server; parks accepted sockets (unread) while accepting is paused. */
class NodeListener implements Listener {
  readonly address: SocketAddress;
  readonly #server: Server;
  readonly #onConnection: (conn: Connection) => void;
  readonly #transport: "tcp" | "unix";
  readonly #gate = new AcceptGate<NodeConnection>();
  readonly #tls: TlsWrapper | undefined;

  constructor(server: Server, spec: ListenSpec, onConnection: (conn: Connection) => void) {
    this.#server = server;
    this.#onConnection = onConnection;
    this.#transport = spec.transport;
    this.#tls = TlsWrapper.for(spec);
    const addr = server.address();
    this.address = spec.transport === "unix" || addr === null || typeof addr === "string"
      ? { transport: "unix", hostname: spec.transport === "unix" ? spec.path : String(addr), port: 0 }
      : { transport: "tcp", hostname: addr.address, port: addr.port };
    server.on("connection", (socket: Socket) => this.#accept(socket));
    // Accept errors (EMFILE...) are reported on the server; never let them escape as uncaught.
    server.on("error", () => {});
  }

  #accept(raw: Socket): void {
    const socket = this.#tls === undefined ? raw : this.#tls.wrap(raw);
    const conn = new NodeConnection(socket, this.#transport);
    if (!this.#gate.park(conn)) this.#onConnection(conn);
  }

  reloadTls(config: TlsConfig): void {
    this.#tls?.reload(config);
  }

  pauseAccepting(): void {
    this.#gate.pause();
  }

  resumeAccepting(): void {
    this.#gate.resume((conn) => {
      if (!conn.closed) this.#onConnection(conn);
    });
  }

  close(): Promise<void> {
    // Parked sockets were never handed over, so nobody else would ever close them.
    for (const conn of this.#gate.takeParked()) conn.destroy();
    // server.close() stops listening (and unlinks a unix path) at once; its callback waits for
    // every connection, which is not what Listener.close promises.
    if (this.#server.listening) this.#server.close();
    return Promise.resolve();
  }
}

function describe(spec: ListenSpec): string {
  if (spec.transport === "unix") return `unix:${spec.path}`;
  return spec.hostname.includes(":") ? `[${spec.hostname}]:${spec.port}` : `${spec.hostname}:${spec.port}`;
}

function listen(spec: ListenSpec, onConnection: (conn: Connection) => void): Promise<Listener> {
  // pauseOnConnect: sockets stay unread until start(), so parked ones push back via TCP.
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
  return new Promise<Listener>((resolve, reject) => {
    const onError = (error: Error & { code?: string }) => {
      const code = error.code ? ` (${error.code})` : "";
      reject(Object.assign(new Error(`cannot listen on ${describe(spec)}: ${error.message}${code}`, { cause: error }), {
        code: error.code,
      }));
    };
    server.once("error", onError);
    server.once("listening", () => {
      server.off("error", onError);
      resolve(new NodeListener(server, spec, onConnection));
    });
    if (spec.transport === "unix") {
      server.listen({ path: spec.path, backlog: spec.backlog });
    } else {
      server.listen({
        host: spec.hostname,
        port: spec.port,
        backlog: spec.backlog,
        ipv6Only: spec.ipv6Only === true && spec.hostname.includes(":"),
      });
    }
  });
}

/** The node:net implementation of the socket contract. */
export const nodeSocketRuntime: SocketRuntime = { name: "node:net", listen };
