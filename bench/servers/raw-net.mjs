// The floors on Node and Deno: a node:net server that finds requests without
// parsing them (the blank line and a Content-Length) and answers with no HTTP
// work. With FLOOR=drop (the socket floor) it drops body bytes and sends canned
// answers; FLOOR=keep (the copy floor) also copies each body into one fresh
// array; FLOOR=fetch (the Fetch floor) answers `GET /` with the benchmark
// app's Response, read through its body stream (see raw-common.ts). No real
// server over node:net can beat the floor that does as much as it must, so
// each bounds what ours can reach on these runtimes. With BENCH_TLS_CERT and
// BENCH_TLS_KEY each socket is wrapped in node:tls as our adapter wraps it.
import { readFileSync } from "node:fs";
import net from "node:net";
import process from "node:process";
import tls from "node:tls";
import { cannedResponses, fetchAnswer, floorMode, RequestScanner } from "./raw-common.ts";

const mode = floorMode(process.env);

const { BENCH_TLS_CERT, BENCH_TLS_KEY } = process.env;
const secureContext = BENCH_TLS_CERT
  ? tls.createSecureContext({ cert: readFileSync(BENCH_TLS_CERT), key: readFileSync(BENCH_TLS_KEY) })
  : null;

const server = net.createServer({ noDelay: true }, (raw) => {
  const socket = secureContext
    ? new tls.TLSSocket(raw, { isServer: true, secureContext, ALPNProtocols: ["http/1.1"] })
    : raw;
  const scanner = new RequestScanner(mode === "keep");
  // Fetch floor: answers are produced asynchronously, so they are chained to stay in order.
  let answered = Promise.resolve();
  socket.on("data", (chunk) => {
    scanner.feed(chunk);
    const completed = scanner.completed;
    if (completed.length === 0) return;
    if (mode !== "fetch") {
      socket.write(cannedResponses(completed), "latin1");
      return;
    }
    for (const length of completed) {
      answered = answered.then(async () => {
        if (length === 0) socket.write(await fetchAnswer());
        else socket.write(cannedResponses([length]), "latin1");
      });
    }
  });
  socket.on("error", () => {});
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("ready"));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
