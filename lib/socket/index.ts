/**
 * Picks the socket adapter of the runtime we run on. The only place that
 * asks which runtime this is; each adapter is imported dynamically so no
 * other runtime's globals (or node:net on Deno and Bun) are ever touched.
 *
 * @module
 */
import type { SocketRuntime } from "./types.ts";

export type { Connection, ConnectionHandlers, Listener, ListenSpec, SocketAddress, SocketRuntime } from "./types.ts";

/** Loads the socket adapter for the current runtime: Deno, Bun, or else Node. */
export async function loadSocketRuntime(): Promise<SocketRuntime> {
  if ("Deno" in globalThis) return (await import("./deno.ts")).denoSocketRuntime;
  if ("Bun" in globalThis) return (await import("./bun.ts")).bunSocketRuntime;
  return (await import("./node.ts")).nodeSocketRuntime;
}
