/**
 * Public types of the engine: the app contract and the server handle.
 *
 * @module
 */
import type { Logger } from "./logger.ts";
import type { ServeOptions } from "./option_table.ts";
import type { FastResponse } from "./response.ts";
import type { TlsInfo } from "./socket/types.ts";
import type { TlsInit } from "./tls.ts";

/** The peer of a request. For unix sockets hostname is "" and port 0. */
export interface RemoteAddr {
  /** `tcp` or `unix`. */
  transport: "tcp" | "unix";
  /** The peer's IP address (no brackets), or the trusted proxy's client address. */
  hostname: string;
  /** The peer's port. */
  port: number;
}

/** What the application gets besides the request (Deno.serve's `info`, waitress's environ extras). */
export interface ServeInfo {
  /** Who sent the request (rewritten by trusted proxy headers). */
  remoteAddr: RemoteAddr;
  /** The mount point split off the path (waitress's SCRIPT_NAME); "" when none. */
  urlPrefix: string;
  /** Settles when the response has been completely written, or the connection was lost first. */
  completed: Promise<void>;
  /** On a TLS connection: the protocol version and the verified client certificate's subject. */
  tls?: TlsInfo;
}

/**
 * A Fetch handler: the JavaScript world's WSGI application. It may answer
 * with a `FastResponse`, which is a Response at run time but, to a type
 * checker, lacks whatever a runtime's Response type adds later.
 */
export type Handler = (request: Request, info: ServeInfo) => Response | FastResponse | Promise<Response | FastResponse>;

/** A handler, or an object with a `fetch` method (Hono apps, `export default { fetch }` modules). */
export type App = Handler | { fetch: Handler };

/** Options of `serve()`: every waitress option, plus a few that only make sense in code. */
export interface ServeInit extends ServeOptions {
  /** Where log lines go (default: console.error / console.warn). */
  logger?: Logger;
  /** Called once every listener is bound, with their addresses. */
  onListen?: (addrs: BoundAddr[]) => void;
  /** Aborting it shuts the server down gracefully. */
  signal?: AbortSignal;
  /** TLS for every TCP listener, as PEM text or paths (instead of `certfile`, `keyfile`, `caCerts`...). */
  tls?: TlsInit;
}

/** A bound listener. */
export interface BoundAddr {
  /** `tcp` or `unix`. */
  transport: "tcp" | "unix";
  /** The IP address bound (no brackets), or the unix socket path. */
  hostname: string;
  /** The port bound (the real one when 0 was asked for); 0 for unix sockets. */
  port: number;
  /** How waitress prints it: `http://127.0.0.1:8080`, `http://[::1]:8080`, `http://unix:/path`. */
  url: string;
}

/** A snapshot of what the server holds right now (for monitoring and leak checks). */
export interface ServerStats {
  /** Open client connections. */
  connections: number;
  /** Requests the application is processing (at most `threads`). */
  activeRequests: number;
  /** Requests received whole and waiting for an application slot. */
  queuedRequests: number;
  /** Temporary files open for spilled request bodies and response output (counted process-wide). */
  tempFiles: number;
}

/** What `serve()` returns. */
export interface Server {
  /** Resolves once every listener is bound; rejects when binding fails. */
  readonly ready: Promise<void>;
  /** The bound addresses; empty until `ready` resolves. */
  readonly addrs: BoundAddr[];
  /** Settles when the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
  /**
   * Graceful stop: stop accepting, let requests already received finish and
   * their responses be written, close idle connections, then resolve.
   */
  shutdown(): Promise<void>;
  /** Immediate stop: stop accepting and close every connection now. */
  close(): Promise<void>;
  /** What the server holds right now. */
  stats(): ServerStats;
  /**
   * Reads the TLS certificate and key files again: new connections get them,
   * open ones keep theirs. Throws, keeping the old ones, when they do not
   * load; does nothing without TLS. (`waitress-serve` calls it on SIGHUP.)
   */
  reloadTls(): void;
  /** Reopens the access log file, after logrotate moved it (`waitress-serve` does it on SIGUSR1). */
  reopenAccessLog(): void;
}
