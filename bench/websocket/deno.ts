/**
 * WebSocket echo on `Deno.serve` with `Deno.upgradeWebSocket` (Deno's
 * native implementation). PORT from the environment; prints "ready".
 *
 * @module
 */
declare const Deno: {
  serve(options: { hostname: string; port: number; onListen(): void }, handler: (r: Request) => Response): unknown;
  upgradeWebSocket(r: Request, o: { idleTimeout: number }): { socket: WebSocket; response: Response };
  env: { get(name: string): string | undefined };
};

Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 0), onListen: () => console.log("ready") },
  (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  },
);
