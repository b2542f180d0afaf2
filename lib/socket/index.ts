/**
 * Picks the socket adapter of the runtime we run on. The only place that
 * asks which runtime this is; each adapter is imported dynamically so no
 * other runtime's globals (or node:net on Bun) are ever touched.
 *
 * Deno runs the node:net adapter. Deno 2's node:net drives its sockets
 * directly from the event loop, the way libuv does. Its native
 * `Deno.listen` connections deliver every read and write as a separate
 * promise-returning op, and under many busy connections some of those ops
 * complete hundreds of milliseconds late: with many keep-alive connections
 * the tail latency on Deno.listen was far worse than on node:net, and idle
 * connections cost more memory, at the same pipelined throughput. The cause
 * is in the runtime (more sockets ready in one reactor turn than tokio's
 * per-task budget), out of reach of a library: see bench/README.md, "Why
 * Deno.listen starves connections".
 *
 * @module
 */
import { handedListeners } from "../supervisor/protocol.ts";
import type { SocketRuntime } from "./types.ts";

export type { Connection, ConnectionHandlers, Listener, ListenSpec, SocketAddress, SocketRuntime } from "./types.ts";

/** Loads the socket adapter for the current runtime: Bun's own sockets on Bun, node:net on Node and Deno. */
export async function loadSocketRuntime(): Promise<SocketRuntime> {
  // A supervised worker serves the sockets its supervisor accepts, whatever the runtime.
  const table = handedListeners();
  if (table !== undefined) return (await import("./handoff.ts")).handoffSocketRuntime(table);
  if ("Bun" in globalThis) return (await import("./bun.ts")).bunSocketRuntime;
  return (await import("./node.ts")).nodeSocketRuntime;
}
