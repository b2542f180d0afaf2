/**
 * WebSocket echo on `Bun.serve`'s `websocket` handler (uWebSockets, C++).
 * PORT from the environment; prints "ready".
 *
 * @module
 */
import process from "node:process";

interface BunSocket {
  send(data: string | Uint8Array): number;
}
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch(r: Request, server: { upgrade(r: Request): boolean }): Response | undefined;
    websocket: { idleTimeout: number; message(ws: BunSocket, data: string | Uint8Array): void };
  }): unknown;
};

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  fetch: (request, server) => server.upgrade(request) ? undefined : new Response("ws only", { status: 426 }),
  websocket: { idleTimeout: 0, message: (ws, data) => void ws.send(data) },
});
console.log("ready");
