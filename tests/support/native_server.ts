/**
 * The runtime's own server for a fetch app, to compare our answers with:
 * Deno.serve on Deno, Bun.serve on Bun, @hono/node-server on Node. Listens on
 * 127.0.0.1 with a free port.
 */
import type { AddressInfo } from "node:net";

/** A fetch-style app. */
export interface FetchLike {
  fetch(request: Request): Response | Promise<Response>;
}

/** A native server started for a test. */
export interface NativeServer {
  /** "Deno.serve", "Bun.serve" or "@hono/node-server". */
  name: string;
  port: number;
  stop(): Promise<void>;
}

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}
interface BunGlobal {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout: number;
    maxRequestBodySize: number;
    fetch(request: Request): Response | Promise<Response>;
  }): BunServer;
}

/** Which native server this runtime has. */
export function nativeServerName(): string {
  if ("Bun" in globalThis) return "Bun.serve";
  if ("Deno" in globalThis) return "Deno.serve";
  return "@hono/node-server";
}

/** Starts the runtime's own server in front of `app`. */
export async function startNative(app: FetchLike): Promise<NativeServer> {
  const fetch = (request: Request) => app.fetch(request);
  if ("Bun" in globalThis) {
    const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
    const server = bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 30, maxRequestBodySize: 1 << 30, fetch });
    return { name: "Bun.serve", port: server.port, stop: async () => void (await server.stop(true)) };
  }
  if ("Deno" in globalThis) {
    const listening = Promise.withResolvers<number>();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: (addr) => listening.resolve(addr.port) },
      fetch,
    );
    const port = await listening.promise;
    return { name: "Deno.serve", port, stop: () => server.shutdown() };
  }
  const { serve } = await import("@hono/node-server");
  const listening = Promise.withResolvers<number>();
  const server = serve(
    { fetch, hostname: "127.0.0.1", port: 0, overrideGlobalObjects: false },
    (info: AddressInfo) => listening.resolve(info.port),
  );
  const port = await listening.promise;
  return {
    name: "@hono/node-server",
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
