/**
 * The server (waitress's server.py): binds every listener, accepts
 * connections into channels, holds new connections while `connectionLimit`
 * are open, sweeps idle connections every `cleanupInterval` seconds, and
 * stops gracefully (`shutdown`) or at once (`close`). With TLS options every
 * TCP listener terminates TLS; with an access log every response is logged.
 *
 * @module
 */
import { chmodSync } from "node:fs";
import { type AccessRecord, compileAccessFormat } from "./access_log.ts";
import { LogFile } from "./log_file.ts";
import { loadTlsConfig, type TlsFields, TlsOptionError, type TlsSource, tlsSourceOf } from "./tls.ts";
import { type Adjustments, resolveAdjustments } from "./adjustments.ts";
import { addressUrl, type BindTarget } from "./binds.ts";
import type { Logger } from "./logger.ts";
import { OptionError } from "./option_values.ts";
import { Channel, type ChannelServer } from "./channel.ts";
import { Dispatcher } from "./dispatcher.ts";
import { loadSocketRuntime } from "./socket/index.ts";
import type { Connection, Listener, SocketRuntime, TlsConfig } from "./socket/types.ts";
import { handlerOf } from "./app.ts";
import type { App, BoundAddr, Handler, ServeInit, Server, ServerStats } from "./types.ts";
import { closeIdleTempFiles, openTempFileCount } from "./buffers.ts";
import { consoleLogger } from "./logger.ts";
import { removeStaleUnixSocket } from "./unix_socket_file.ts";

/** Opens the access log the options ask for (the file is opened now, so an error shows at once). */
function openAccessLog(adj: Adjustments): { file: LogFile; log: (record: AccessRecord) => void } | null {
  const path = adj.accessLogfile;
  if (path === undefined) return null;
  const format = compileAccessFormat(adj.accessLogformat);
  const file = new LogFile(path);
  return { file, log: (record) => file.write(format(record)) };
}

/** The TLS options, loaded and checked; a TLS option error becomes an OptionError naming the option. */
function tlsOf(adj: Adjustments, init: ServeInit): { source: TlsSource; config: TlsConfig } | undefined {
  const fields: TlsFields = { ...adj, tls: init.tls };
  try {
    const source = tlsSourceOf(fields);
    return source === undefined ? undefined : { source, config: loadTlsConfig(source) };
  } catch (error) {
    throw error instanceof TlsOptionError ? new OptionError(error.option, error.message) : error;
  }
}

/** How long a retiring worker keeps an idle kept-alive connection open for one more request. */
const RETIRE_IDLE_GRACE_MS = 1000;

class WaitressServer implements Server, ChannelServer {
  readonly adj: Adjustments;
  readonly logger: Logger;
  readonly dispatcher: Dispatcher;
  readonly handler: Handler;
  readonly accessLog: ((record: AccessRecord) => void) | null;
  readonly ready: Promise<void>;
  readonly finished: Promise<void>;
  addrs: BoundAddr[] = [];
  draining = false;

  #listeners: Listener[] = [];
  #channels = new Set<Channel>();
  #sweep: ReturnType<typeof setInterval> | null = null;
  #acceptPaused = false;
  #stopping: Promise<void> | null = null;
  #resolveFinished!: () => void;
  #init: ServeInit;
  #tlsSource: TlsSource | undefined;
  #tls: TlsConfig | undefined;
  #logFile: LogFile | null;

  constructor(app: App, init: ServeInit) {
    this.#init = init;
    this.adj = resolveAdjustments(init);
    if (this.adj.workers > 1 || this.adj.reload) {
      const option = this.adj.reload ? "reload" : "workers";
      throw new OptionError(option, `serve() runs in this one process; ${option} takes a supervisor: see supervise()`);
    }
    this.logger = init.logger ?? consoleLogger;
    this.dispatcher = new Dispatcher(this.adj.threads);
    this.handler = handlerOf(app);
    const tls = tlsOf(this.adj, init);
    this.#tlsSource = tls?.source;
    this.#tls = tls?.config;
    const accessLog = openAccessLog(this.adj);
    this.#logFile = accessLog?.file ?? null;
    this.accessLog = accessLog?.log ?? null;
    this.finished = new Promise<void>((resolve) => this.#resolveFinished = resolve);
    // Lines still buffered are written when the server has finished (or failed to start).
    void this.finished.then(() => this.#logFile?.close());
    this.ready = this.#start();
    // A failed bind rejects `ready`; `finished` then settles so nobody waits forever.
    this.ready.catch(() => this.#resolveFinished());
    init.signal?.addEventListener("abort", () => void this.shutdown(), { once: true });
  }

  async #start(): Promise<void> {
    const runtime = await loadSocketRuntime();
    try {
      for (const target of this.adj.binds) {
        try {
          await this.#bind(runtime, target);
        } catch (error) {
          if (!this.#coveredByDualStack(target, error)) throw error;
          this.logger.info(
            `IPv4 wildcard on port ${(target as { port: number }).port} is served by the dual-stack [::]`,
          );
        }
      }
    } catch (error) {
      await Promise.all(this.#listeners.map((l) => l.close().catch(() => {})));
      this.#listeners = [];
      this.addrs = [];
      throw error;
    }
    const interval = this.adj.cleanupInterval * 1000;
    this.#sweep = setInterval(() => this.#closeIdleChannels(), interval);
    this.#init.onListen?.(this.addrs.slice());
    runtime.stopRequested?.then(() => this.#stop(true, RETIRE_IDLE_GRACE_MS));
    if (this.#init.signal?.aborted) void this.shutdown();
  }

  async #bind(runtime: SocketRuntime, target: BindTarget): Promise<void> {
    const backlog = this.adj.backlog;
    let listener: Listener;
    if (target.transport === "unix") {
      // A supervisor that bound the socket owns its file: a worker neither removes nor chmods it.
      const ownsFile = runtime.bindsListeners !== false;
      if (ownsFile) removeStaleUnixSocket(target.path);
      listener = await runtime.listen({ transport: "unix", path: target.path, backlog }, (c) => this.#accept(c));
      if (ownsFile) chmodSync(target.path, this.adj.unixSocketPerms);
      this.addrs.push({ transport: "unix", hostname: target.path, port: 0, url: addressUrl("unix", target.path, 0) });
    } else {
      const spec = { transport: "tcp" as const, hostname: target.hostname, port: target.port, backlog, tls: this.#tls };
      listener = await runtime.listen({ ...spec, ipv6Only: target.ipv6Only }, (c) => this.#accept(c));
      const port = listener.address.port;
      const hostname = listener.address.hostname;
      const url = addressUrl("tcp", hostname, port, this.#tls !== undefined);
      this.addrs.push({ transport: "tcp", hostname, port, url });
    }
    this.#listeners.push(listener);
  }

  /**
   * True when binding 0.0.0.0 failed only because our own `::` listener on the
   * same port is dual-stack (the runtime could not make it IPv6-only).
   */
  #coveredByDualStack(target: BindTarget, error: unknown): boolean {
    if (target.transport !== "tcp" || target.hostname !== "0.0.0.0" || target.port === 0) return false;
    const e = error as { code?: unknown; name?: unknown; message?: unknown };
    const inUse = e?.code === "EADDRINUSE" || e?.name === "AddrInUse" || /in use/i.test(String(e?.message));
    return inUse && this.addrs.some((a) => a.transport === "tcp" && a.hostname === "::" && a.port === target.port);
  }

  #accept(conn: Connection): void {
    if (this.#stopping !== null) {
      conn.destroy();
      return;
    }
    const channel = new Channel(conn, this);
    this.#channels.add(channel);
    if (this.#channels.size >= this.adj.connectionLimit && !this.#acceptPaused) {
      this.#acceptPaused = true;
      this.logger.warn(`total open connections reached the connection limit, no longer accepting new connections`);
      for (const l of this.#listeners) l.pauseAccepting();
    }
  }

  channelClosed(channel: Channel): void {
    this.#channels.delete(channel);
    if (this.#acceptPaused && this.#channels.size < this.adj.connectionLimit && this.#stopping === null) {
      this.#acceptPaused = false;
      this.logger.info(`total open connections dropped below the connection limit, listening again`);
      for (const l of this.#listeners) l.resumeAccepting();
    }
    if (this.#stopping !== null && this.#channels.size === 0) this.#resolveFinished();
  }

  /** Closes connections idle longer than channelTimeout with no request in flight (waitress's maintenance). */
  #closeIdleChannels(): void {
    const now = Date.now();
    const timeout = this.adj.channelTimeout * 1000;
    for (const channel of this.#channels) {
      if (channel.expired(now, timeout)) channel.destroy();
      else channel.checkBodyRate(now);
    }
  }

  /** While retiring: closes connections that have been between requests for `graceMs`. */
  #closeIdleFor(graceMs: number): void {
    const now = Date.now();
    for (const channel of this.#channels) {
      if (channel.idle && now - channel.lastActivity > graceMs) channel.closeWhenFlushed();
    }
  }

  shutdown(): Promise<void> {
    return this.#stop(true);
  }

  reloadTls(): void {
    if (this.#tlsSource === undefined) return;
    const config = loadTlsConfig(this.#tlsSource);
    this.#tls = config;
    for (const listener of this.#listeners) listener.reloadTls(config);
  }

  reopenAccessLog(): void {
    this.#logFile?.reopen();
  }

  stats(): ServerStats {
    return {
      connections: this.#channels.size,
      activeRequests: this.dispatcher.active,
      queuedRequests: this.dispatcher.queued,
      tempFiles: openTempFileCount(),
    };
  }

  close(): Promise<void> {
    return this.#stop(false);
  }

  /**
   * `idleGraceMs` above 0 (a supervisor retiring this worker): idle
   * connections are not closed at once but once idle that long, and a
   * request that comes on one meanwhile is answered with `Connection: close`.
   * Closing a kept-alive connection the moment the client sends its next
   * request on it would fail that request.
   */
  #stop(graceful: boolean, idleGraceMs = 0): Promise<void> {
    if (this.#stopping !== null && graceful) return this.finished;
    this.draining = true;
    const first = this.#stopping === null;
    this.#stopping ??= this.ready.catch(() => {}).then(async () => {
      const listeners = this.#listeners;
      this.#listeners = [];
      await Promise.all(listeners.map((l) => l.close().catch(() => {})));
    });
    for (const channel of this.#channels) {
      if (!graceful) channel.destroy();
      else if (!channel.busy && idleGraceMs === 0) channel.closeWhenFlushed();
      // Busy channels close themselves after their last response (they see `draining`).
    }
    if (first && graceful && idleGraceMs > 0) {
      if (this.#sweep !== null) clearInterval(this.#sweep);
      this.#sweep = setInterval(() => this.#closeIdleFor(idleGraceMs), Math.min(idleGraceMs, 100));
    }
    if (first) {
      void this.#stopping.then(() => this.#channels.size === 0 && this.#resolveFinished());
      void this.finished.then(() => {
        if (this.#sweep !== null) clearInterval(this.#sweep);
        // Files kept for reuse go too: a finished server leaves no descriptor behind.
        closeIdleTempFiles();
      });
    }
    return this.#stopping.then(() => this.finished);
  }
}

/**
 * Serves `app` over HTTP/1.1 with waitress's semantics on Deno, Bun or Node.
 * Returns at once; `ready` resolves when every listener is bound. Option
 * errors throw here, naming the option.
 *
 * ```ts
 * import { serve } from "./mod.ts";
 * const server = serve((request) => new Response(`Hello from ${new URL(request.url).pathname}`), {
 *   listen: "127.0.0.1:8080",
 * });
 * await server.ready;
 * ```
 */
export function serve(app: App, options: ServeInit = {}): Server {
  return new WaitressServer(app, options);
}
