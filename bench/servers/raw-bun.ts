/**
 * The floors on Bun: a `Bun.listen` server (the socket API our Bun adapter
 * uses) that finds requests without parsing them and does no HTTP work. With
 * FLOOR=drop (the socket floor) it drops body bytes and sends canned answers;
 * FLOOR=keep (the copy floor) also copies each body into one fresh array;
 * FLOOR=fetch (the Fetch floor) answers `GET /` with the benchmark app's
 * Response, read through its body stream (see raw-common.ts). Each bounds
 * what a server over `Bun.listen` that does as much can reach. With
 * BENCH_TLS_CERT and BENCH_TLS_KEY it listens with TLS, as our adapter does.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { portFromEnv } from "./app.ts";
import { cannedResponses, fetchAnswer, floorMode, RequestScanner } from "./raw-common.ts";

interface RawSocket {
  data: { scanner: RequestScanner; pending: Uint8Array | null; answered: Promise<void> };
  write(data: Uint8Array): number;
  setNoDelay(on: boolean): void;
}
declare const Bun: {
  listen(options: {
    hostname: string;
    port: number;
    tls?: { cert: string; key: string; ALPNProtocols: string };
    socket: {
      open(socket: RawSocket): void;
      data(socket: RawSocket, chunk: Uint8Array): void;
      drain(socket: RawSocket): void;
    };
  }): unknown;
};

const mode = floorMode(process.env);
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

const { BENCH_TLS_CERT, BENCH_TLS_KEY } = process.env;
Bun.listen({
  hostname: "127.0.0.1",
  port: portFromEnv(process.env),
  tls: BENCH_TLS_CERT
    ? {
      cert: readFileSync(BENCH_TLS_CERT, "utf8"),
      key: readFileSync(BENCH_TLS_KEY!, "utf8"),
      ALPNProtocols: "\x08http/1.1",
    }
    : undefined,
  socket: {
    open(socket) {
      socket.data = { scanner: new RequestScanner(mode === "keep"), pending: null, answered: Promise.resolve() };
      socket.setNoDelay(true);
    },
    data(socket, chunk) {
      const scanner = socket.data.scanner;
      scanner.feed(chunk);
      const completed = scanner.completed;
      if (completed.length === 0) return;
      if (mode !== "fetch") {
        send(socket, responses(completed));
        return;
      }
      // Fetch floor: answers are produced asynchronously, so they are chained to stay in order.
      for (const length of completed) {
        socket.data.answered = socket.data.answered.then(async () => {
          send(socket, length === 0 ? await fetchAnswer() : responses([length]));
        });
      }
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
