/**
 * The seam between the portable engine and each runtime's raw sockets.
 *
 * Everything above this interface is runtime-agnostic; `node.ts` (Node and
 * Deno) and `bun.ts` implement it, and `index.ts` picks one at start-up. The
 * contract is deliberately small (waitress's asyncore dispatcher needs no
 * more): bytes in, bytes out with back-pressure, pause/resume reading,
 * close.
 *
 * @module
 */

/** Where a listener should bind. */
export type ListenSpec =
  | {
    transport: "tcp";
    /** An IP literal (`127.0.0.1`, `::1`, `0.0.0.0`, `::`) or a host name. */
    hostname: string;
    /** 0 asks the OS for a free port. */
    port: number;
    backlog: number;
    /** For IPv6 addresses: accept IPv6 only (waitress sets IPV6_V6ONLY). Best effort. */
    ipv6Only?: boolean;
    /** Terminate TLS on every connection of this listener; absent for plain TCP. */
    tls?: TlsConfig;
  }
  | {
    transport: "unix";
    path: string;
    backlog: number;
  };

/**
 * What a TLS listener needs, already loaded: PEM text, never paths. ALPN is
 * always `http/1.1` alone and the versions TLS 1.2 and 1.3, so neither is
 * configurable here.
 */
export interface TlsConfig {
  /** The certificate chain, PEM. */
  cert: string;
  /** The private key, PEM, unencrypted. */
  key: string;
  /** CA certificates that client certificates must chain to, PEM. */
  ca?: string;
  /** Ask clients for a certificate. */
  requestCert: boolean;
  /** Refuse the handshake when the client's certificate is missing or does not verify. */
  rejectUnauthorized: boolean;
}

/** What the handshake settled, for `info.tls`. */
export interface TlsInfo {
  /** The negotiated protocol version: `TLSv1.2` or `TLSv1.3`. */
  protocol: string;
  /** The verified client certificate's subject (`CN=alice, O=Example`); absent without one. */
  peerSubject?: string;
}

/** The address a listener is bound to, or a peer's address. */
export interface SocketAddress {
  transport: "tcp" | "unix";
  /** IP address for tcp (no brackets); the socket path for a unix listener, "" for a unix peer. */
  hostname: string;
  /** The port for tcp; 0 for unix. */
  port: number;
}

/** Callbacks an adapter makes on one connection. Set once, before any data flows. */
export interface ConnectionHandlers {
  /**
   * Bytes arrived. The chunk is only valid during the call: the adapter may
   * reuse its memory afterwards, so the receiver copies what it keeps.
   */
  onData(chunk: Uint8Array): void;
  /** The peer half-closed its sending side (EOF). Writing may continue. */
  onEnd(): void;
  /** Everything handed to `write` has been passed to the OS; writing may resume. */
  onDrain(): void;
  /**
   * The connection is gone (closed by us, reset by the peer, or a socket
   * error). Called exactly once; `error` is set when it was not a clean close.
   */
  onClose(error?: unknown): void;
}

/** One accepted connection. */
export interface Connection {
  /** The peer: tcp address and port, or `{transport: "unix", hostname: "", port: 0}`. */
  readonly remote: SocketAddress;
  /**
   * For a TLS connection, once its handshake is done: the protocol version and
   * the verified client certificate. Undefined for plain TCP and unix sockets.
   */
  readonly tls: TlsInfo | undefined;
  /** Installs the callbacks; the adapter starts reading after this. */
  start(handlers: ConnectionHandlers): void;
  /**
   * Queues bytes for sending. The adapter keeps a reference until they are
   * written, so the caller must not change them afterwards. Returns false
   * when the caller should stop writing until `onDrain` (the adapter still
   * takes the bytes: nothing is lost). Writing after close is a no-op.
   */
  write(data: Uint8Array): boolean;
  /**
   * Queues several pieces in order, like `write` on each. Where
   * `gathersWrites` is true they leave in one system call without being
   * copied (writev); elsewhere they are written one after another.
   */
  writev(parts: readonly Uint8Array[]): boolean;
  /**
   * True when `writev` gathers pieces without copying them. The engine then
   * sends a body chunk and its framing as separate pieces instead of joining
   * them into a fresh array: large copies churn the allocator, and on glibc
   * the freed memory is not given back to the OS.
   */
  readonly gathersWrites: boolean;
  /** Bytes queued in the adapter and not yet passed to the OS. */
  readonly bufferedAmount: number;
  /** Stop delivering `onData` until `resumeReading`; TCP flow control pushes back on the peer. */
  pauseReading(): void;
  /** Start delivering `onData` again. */
  resumeReading(): void;
  /** Flush queued bytes, then close both directions. */
  close(): void;
  /** Close at once, dropping queued bytes. */
  destroy(): void;
}

/** A bound, accepting listener. */
export interface Listener {
  /** Where it is bound (the real port when 0 was asked for). */
  readonly address: SocketAddress;
  /**
   * Stop handing over new connections. They wait (in the kernel backlog, or
   * accepted and parked unread) and are handed over in arrival order after
   * `resumeAccepting`. This is how `connectionLimit` holds excess clients.
   */
  pauseAccepting(): void;
  /** Hand over waiting and new connections again. */
  resumeAccepting(): void;
  /**
   * Serve new connections with this certificate (a TLS listener only; a no-op
   * on others). Connections already open keep the one they shook hands with.
   */
  reloadTls(config: TlsConfig): void;
  /** Stop listening; for unix sockets the socket file is removed. Existing connections are untouched. */
  close(): Promise<void>;
}

/** One runtime's socket API behind the common contract. */
export interface SocketRuntime {
  /** Which socket API this adapter drives, for logs and tests ("handoff": a supervisor's worker). */
  readonly name: "node:net" | "bun" | "handoff";
  /**
   * False when the listeners were bound by another process (a supervisor):
   * the server then leaves the unix socket file alone (no stale-file
   * removal, no chmod), since its owner does both. Absent means true.
   */
  readonly bindsListeners?: boolean;
  /** Settles when whoever handed the listeners over asks the server to stop gracefully. */
  readonly stopRequested?: Promise<void>;
  /**
   * Binds and starts accepting. `onConnection` is called for every accepted
   * connection; it calls `conn.start(...)` before returning. Rejects with a
   * clear error when binding fails (address in use, permission denied).
   */
  listen(spec: ListenSpec, onConnection: (conn: Connection) => void): Promise<Listener>;
}

/** The peer address reported for unix socket connections (they have none). */
export const UNIX_PEER: SocketAddress = { transport: "unix", hostname: "", port: 0 };

/** Adapters with their own write queue report back-pressure above this many queued bytes (node:net's default). */
export const WRITE_HIGH_WATER = 64 * 1024;

/** Adapters without cork or writev merge queued chunks up to this size into one write. */
export const WRITE_BATCH = 64 * 1024;
