/**
 * The supervisor's listeners: every bind target bound once, in the
 * supervisor, with `node:net` on every runtime (it only accepts and passes
 * sockets on, so the Bun adapter's speed does not matter here). Accepted
 * sockets stay unread (`pauseOnConnect`) until a worker takes them. A unix
 * socket's stale file is removed first, the file gets its permissions, and
 * it is removed when the listener closes.
 *
 * @module
 */
import { chmodSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { BindTarget } from "../binds.ts";
import { removeStaleUnixSocket } from "../unix_socket_file.ts";
import type { HandedListener } from "./protocol.ts";

/** What binding needs from the options. */
export interface BindSettings {
  backlog: number;
  unixSocketPerms: number;
}

/** Every listener, bound. */
export interface BoundListeners {
  /** What the workers are told, in bind order. */
  readonly table: HandedListener[];
  /** Stops listening (and removes unix socket files). Accepted sockets are untouched. */
  close(): void;
}

function describe(target: BindTarget): string {
  if (target.transport === "unix") return `unix:${target.path}`;
  return target.hostname.includes(":") ? `[${target.hostname}]:${target.port}` : `${target.hostname}:${target.port}`;
}

function bindOne(target: BindTarget, backlog: number, onSocket: (socket: Socket) => void): Promise<Server> {
  const server = createServer({ pauseOnConnect: true }, onSocket);
  return new Promise<Server>((resolve, reject) => {
    server.once("error", (error: Error & { code?: string }) => {
      const code = error.code ? ` (${error.code})` : "";
      const message = `cannot listen on ${describe(target)}: ${error.message}${code}`;
      reject(Object.assign(new Error(message, { cause: error }), { code: error.code }));
    });
    server.once("listening", () => {
      // Accept errors (EMFILE...) come through here; the next accept is tried anyway.
      server.removeAllListeners("error");
      server.on("error", () => {});
      resolve(server);
    });
    if (target.transport === "unix") server.listen({ path: target.path, backlog });
    else {
      const ipv6Only = target.ipv6Only && target.hostname.includes(":");
      server.listen({ host: target.hostname, port: target.port, backlog, ipv6Only });
    }
  });
}

/** The same rule as the server's: 0.0.0.0 in use only because our own `::` is dual-stack. */
function coveredByDualStack(target: BindTarget, error: unknown, table: HandedListener[]): boolean {
  if (target.transport !== "tcp" || target.hostname !== "0.0.0.0" || target.port === 0) return false;
  if ((error as { code?: unknown }).code !== "EADDRINUSE") return false;
  return table.some((l) => l.transport === "tcp" && l.hostname === "::" && l.port === target.port);
}

/**
 * Binds every target in order. `onSocket(index, socket)` gets each accepted
 * connection with the index of its listener in `table`. On failure, what was
 * bound is closed again and the error names the address.
 */
export async function bindListeners(
  binds: readonly BindTarget[],
  settings: BindSettings,
  onSocket: (index: number, socket: Socket) => void,
): Promise<BoundListeners> {
  const servers: Server[] = [];
  const table: HandedListener[] = [];
  const close = (): void => {
    for (const server of servers) if (server.listening) server.close();
  };
  try {
    for (const target of binds) {
      const index = table.length;
      let server: Server;
      if (target.transport === "unix") removeStaleUnixSocket(target.path);
      try {
        server = await bindOne(target, settings.backlog, (socket) => onSocket(index, socket));
      } catch (error) {
        if (coveredByDualStack(target, error, table)) continue;
        throw error;
      }
      servers.push(server);
      if (target.transport === "unix") {
        chmodSync(target.path, settings.unixSocketPerms);
        table.push({ transport: "unix", requested: target.path, requestedPort: 0, hostname: target.path, port: 0 });
      } else {
        const addr = server.address() as { address: string; port: number };
        table.push({
          transport: "tcp",
          requested: target.hostname,
          requestedPort: target.port,
          hostname: addr.address,
          port: addr.port,
        });
      }
    }
  } catch (error) {
    close();
    throw error;
  }
  return { table, close };
}
