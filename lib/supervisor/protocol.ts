/**
 * What a supervisor and its worker processes say to each other over the IPC
 * channel that `fork()` opens. Both sides import this file and nothing else
 * of the other's.
 *
 * The supervisor accepts every connection itself and hands the socket to one
 * worker (`conn`, the socket travels with the message). One accept queue, in
 * the supervisor, is what lets a restart lose nothing: a worker never holds
 * a listening socket, so retiring it strands no connection waiting to be
 * accepted (Linux resets those when a listener of a SO_REUSEPORT group
 * closes).
 *
 * @module
 */
import process from "node:process";

/** Environment variable that marks a worker process; it holds the listener table as JSON. */
export const WORKER_ENV = "WAITRESS_SUPERVISED_LISTENERS";

/** The listener table the supervisor put in this worker's environment; undefined outside a worker. */
export function handedListeners(): HandedListener[] | undefined {
  const raw = process.env[WORKER_ENV];
  if (raw === undefined || typeof process.send !== "function") return undefined;
  return JSON.parse(raw) as HandedListener[];
}

/** True in a process that a supervisor started as one of its workers. */
export function isWorker(): boolean {
  return handedListeners() !== undefined;
}

/** One listener the supervisor bound, as the worker needs to know it. */
export interface HandedListener {
  /** The bind target as the options asked for it (port 0 stays 0), to match a worker's own bind. */
  transport: "tcp" | "unix";
  /** IP address asked for (tcp) or the socket path (unix). */
  requested: string;
  /** The port asked for (tcp); 0 for unix. */
  requestedPort: number;
  /** Where it is actually bound: the IP address, or the socket path. */
  hostname: string;
  /** The real port (tcp); 0 for unix. */
  port: number;
}

/** Supervisor to worker. */
export type ToWorker =
  /** A connection accepted on listener `l`; the socket is the message's handle. */
  | { t: "conn"; l: number }
  /** Finish up and exit once the `sent` connections handed over so far have all arrived. */
  | { t: "stop"; sent: number };

/** Worker to supervisor. */
export type FromWorker =
  /** The worker serves every listener: route connections to it. */
  | { t: "ready" }
  /** The worker was sent SIGTERM: the supervisor retires it (a `stop` comes back) and starts a replacement. */
  | { t: "closing" }
  /** A connection the worker can no longer serve (it is stopping); the socket is the handle. */
  | { t: "back"; l: number };
