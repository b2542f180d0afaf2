/**
 * The socket floor on Bun: a `Bun.listen` server (the socket API our Bun
 * adapter uses) that answers every request with a canned response and does
 * no HTTP work at all (see raw-common.ts). It bounds what any server over
 * `Bun.listen` can reach. The benchmark runs it in the hello-world and upload
 * scenarios.
 *
 * @module
 */
import process from "node:process";
import { portFromEnv } from "./app.ts";
import { cannedResponses, RequestScanner } from "./raw-common.ts";

interface RawSocket {
  data: { scanner: RequestScanner; pending: Uint8Array | null };
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
const ONE_HELLO = [0];
let hello = new Uint8Array(0);
let helloText = "";

/** The answers as bytes; the common single "Hello World" is re-encoded only when its Date changes. */
function responses(completed: readonly number[]): Uint8Array {
  if (completed.length !== 1 || completed[0] !== 0) return encoder.encode(cannedResponses(completed));
  const text = cannedResponses(ONE_HELLO);
  if (text !== helloText) {
    helloText = text;
    hello = encoder.encode(text);
  }
  return hello;
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
      socket.data = { scanner: new RequestScanner(), pending: null };
      socket.setNoDelay(true);
    },
    data(socket, chunk) {
      const scanner = socket.data.scanner;
      scanner.feed(chunk);
      if (scanner.completed.length > 0) send(socket, responses(scanner.completed));
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
