/**
 * The socket contract in a worker process of a supervisor
 * (`lib/supervisor/`): the supervisor binds and accepts, and hands each
 * connection over the IPC channel as a `node:net` socket, on Node, Deno and
 * Bun alike. `listen()` binds nothing: it claims the supervisor's listener
 * that matches the bind target. Once every listener is claimed the worker
 * tells the supervisor it is ready.
 *
 * @module
 */
import { AcceptGate } from "./accept_gate.ts";
import type { Socket } from "node:net";
import process from "node:process";
import type { FromWorker, HandedListener, ToWorker } from "../supervisor/protocol.ts";
import { NodeConnection, TlsWrapper } from "./node.ts";
import type { Connection, Listener, ListenSpec, SocketAddress, SocketRuntime, TlsConfig } from "./types.ts";

function send(message: FromWorker, socket?: Socket): void {
  // The channel is gone when the supervisor died; the socket then goes with this process.
  if (process.connected) process.send!(message, socket as never);
  else socket?.destroy();
}

/** One of the supervisor's listeners, claimed by a server in this worker. */
class HandedOverListener implements Listener {
  readonly address: SocketAddress;
  readonly #index: number;
  readonly #onConnection: (conn: Connection) => void;
  #closed = false;
  /** Sockets held unread while accepting is paused (connectionLimit); still the supervisor's to reroute. */
  readonly #gate = new AcceptGate<Socket>();
  /** The worker terminates TLS itself: the supervisor hands over the raw TCP connection. */
  readonly #tls: TlsWrapper | undefined;

  constructor(index: number, entry: HandedListener, spec: ListenSpec, onConnection: (conn: Connection) => void) {
    this.#index = index;
    this.#onConnection = onConnection;
    this.#tls = TlsWrapper.for(spec);
    this.address = { transport: entry.transport, hostname: entry.hostname, port: entry.port };
  }

  /** A socket the supervisor accepted on this listener. */
  deliver(socket: Socket): void {
    if (this.#closed) {
      send({ t: "back", l: this.#index }, socket);
      return;
    }
    if (this.#gate.park(socket)) {
      socket.on("error", () => {}); // a parked socket's reset is never an uncaught 'error'
      return;
    }
    this.#hand(socket);
  }

  #hand(socket: Socket): void {
    // Sockets received over IPC are made without the options our own listener sets.
    socket.allowHalfOpen = true;
    if (this.address.transport === "tcp") socket.setNoDelay(true);
    const secured = this.#tls === undefined ? socket : this.#tls.wrap(socket);
    this.#onConnection(new NodeConnection(secured, this.address.transport));
  }

  reloadTls(config: TlsConfig): void {
    this.#tls?.reload(config);
  }

  pauseAccepting(): void {
    this.#gate.pause();
  }

  resumeAccepting(): void {
    this.#gate.resume((socket) => {
      if (!socket.destroyed) this.#hand(socket);
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    // Parked sockets were never served here: the supervisor gives them to another worker.
    for (const socket of this.#gate.takeParked()) send({ t: "back", l: this.#index }, socket);
    return Promise.resolve();
  }
}

/** The worker's side of the channel: counts what arrives, routes it, and hears "stop". */
class WorkerEnd {
  readonly table: HandedListener[];
  readonly claimed: (HandedOverListener | undefined)[];
  /** Sockets that arrived for a listener no server has claimed yet. */
  readonly early: Socket[][];
  readonly stopRequested: Promise<void>;
  #requestStop!: () => void;
  #received = 0;
  #stopAt = -1;

  constructor(table: HandedListener[]) {
    this.table = table;
    this.claimed = table.map(() => undefined);
    this.early = table.map(() => []);
    this.stopRequested = new Promise<void>((resolve) => this.#requestStop = resolve);
    process.on("message", (message: ToWorker, socket?: Socket) => this.#onMessage(message, socket));
    // The supervisor is gone (killed, or exited): finish what we have and go too.
    process.on("disconnect", () => this.#requestStop());
    // SIGTERM (a user, a process manager): ask the supervisor to retire us, so that nothing it
    // sends meanwhile is lost. Its own signals reach us too when they go to the whole process
    // group (a Ctrl-C, a hang-up): the supervisor decides what the workers do.
    process.on("SIGTERM", () => {
      if (process.connected) send({ t: "closing" });
      else this.#requestStop();
    });
    for (const signal of ["SIGINT", "SIGHUP", "SIGTTIN", "SIGTTOU"] as const) process.on(signal, () => {});
    // The channel must not keep a finished worker alive; the servers' own timers do while serving.
    (process.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  #onMessage(message: ToWorker, socket: Socket | undefined): void {
    if (message.t === "conn" && socket !== undefined) {
      this.#received++;
      const listener = this.claimed[message.l];
      if (listener !== undefined) listener.deliver(socket);
      else this.early[message.l]?.push(socket);
    } else if (message.t === "stop") {
      this.#stopAt = message.sent;
    }
    // Stop only once every socket sent before the word has arrived, whatever the channel's ordering.
    if (this.#stopAt >= 0 && this.#received >= this.#stopAt) this.#requestStop();
  }

  claim(spec: ListenSpec, onConnection: (conn: Connection) => void): Listener {
    const index = this.table.findIndex((entry, i) =>
      this.claimed[i] === undefined && entry.transport === spec.transport &&
      (spec.transport === "unix"
        ? entry.requested === spec.path
        : entry.requested === spec.hostname && entry.requestedPort === spec.port)
    );
    if (index < 0) {
      const where = spec.transport === "unix" ? `unix:${spec.path}` : `${spec.hostname}:${spec.port}`;
      throw Object.assign(new Error(`cannot listen on ${where}: the supervisor did not bind it`), {
        code: "EADDRINUSE", // as a bind would say: the server then knows a dual-stack `::` covers 0.0.0.0
      });
    }
    const listener = new HandedOverListener(index, this.table[index], spec, onConnection);
    this.claimed[index] = listener;
    for (const socket of this.early[index].splice(0)) listener.deliver(socket);
    if (this.claimed.every((l) => l !== undefined)) send({ t: "ready" });
    return listener;
  }
}

let end: WorkerEnd | undefined;

/** The socket runtime of a supervised worker. Call only where `handedListeners()` is defined. */
export function handoffSocketRuntime(table: HandedListener[]): SocketRuntime {
  end ??= new WorkerEnd(table);
  const worker = end;
  return {
    name: "handoff",
    bindsListeners: false,
    stopRequested: worker.stopRequested,
    listen: (spec, onConnection) => {
      try {
        return Promise.resolve(worker.claim(spec, onConnection));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}
