/**
 * WebSocket echo on our engine (Node 24, Deno or Bun): the benchmark's
 * server under test. PORT from the environment; prints "ready".
 *
 * @module
 */
import process from "node:process";
import { serve, upgradeWebSocket } from "../../mod.ts";

const server = serve((request) => {
  const { socket, response } = upgradeWebSocket(request, { idleTimeout: 0 });
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => socket.send(event.data);
  return response;
}, {
  listen: `127.0.0.1:${process.env.PORT ?? 0}`,
  connectionLimit: 2000,
  logger: { info() {}, warn() {}, error() {} },
});
await server.ready;
console.log("ready");
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
