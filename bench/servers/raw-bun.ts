/**
 * The socket floor on Bun: a `Bun.listen` server (the socket API our Bun
 * adapter uses) that answers every request head with one canned "Hello
 * World" response and does no HTTP work at all. It bounds what any server
 * over `Bun.listen` can reach. It serves only `GET /` without a body; the
 * benchmark runs it in the hello-world scenarios only.
 *
 * @module
 */
import process from "node:process";
import { portFromEnv } from "./app.ts";
import { cannedResponse, countHeads } from "./raw-common.ts";

interface RawSocket {
  data: { matched: number; pending: Uint8Array | null };
  write(data: Uint8Array): number;
  setNoDelay(on: boolean): void;
}
declare const Bun: {
  listen(options: {
    hostname: string;
    port: number;
    socket: {
      open(socket: RawSocket): void;
      data(socket: RawSocket, chunk: Uint8Array): void;
      drain(socket: RawSocket): void;
    };
  }): unknown;
};

const encoder = new TextEncoder();
let canned = new Uint8Array(0);
let cannedText = "";

/** The canned response as bytes, re-encoded when its Date changes. */
function response(): Uint8Array {
  const text = cannedResponse();
  if (text !== cannedText) {
    cannedText = text;
    canned = encoder.encode(text);
  }
  return canned;
}

/** Writes what the kernel takes; keeps the rest for `drain` (Bun's write may be partial). */
function send(socket: RawSocket, bytes: Uint8Array): void {
  if (socket.data.pending !== null) {
    const joined = new Uint8Array(socket.data.pending.length + bytes.length);
    joined.set(socket.data.pending);
    joined.set(bytes, socket.data.pending.length);
    socket.data.pending = joined;
    return;
  }
  const written = socket.write(bytes);
  if (written < bytes.length) socket.data.pending = bytes.slice(Math.max(0, written));
}

Bun.listen({
  hostname: "127.0.0.1",
  port: portFromEnv(process.env),
  socket: {
    open(socket) {
      socket.data = { matched: 0, pending: null };
      socket.setNoDelay(true);
    },
    data(socket, chunk) {
      const n = countHeads(socket.data, chunk);
      if (n === 0) return;
      const one = response();
      if (n === 1) return send(socket, one);
      const out = new Uint8Array(one.length * n);
      for (let i = 0; i < n; i++) out.set(one, i * one.length);
      send(socket, out);
    },
    drain(socket) {
      const pending = socket.data.pending;
      if (pending === null) return;
      socket.data.pending = null;
      send(socket, pending);
    },
  },
});
console.log("ready");
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
