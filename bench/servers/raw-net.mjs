// The socket floor on Node and Deno: a node:net server that answers every
// request with a canned response and does no HTTP work at all (it finds the
// blank line and a Content-Length, no Request/Response objects, and drops
// body bytes as they arrive). No real server over node:net can beat it, so it
// bounds what ours can reach on these runtimes. It answers "Hello World", or
// a body's length for a request with one; the benchmark runs it in the
// hello-world and upload scenarios.
import net from "node:net";
import process from "node:process";
import { cannedResponses, RequestScanner } from "./raw-common.ts";

const server = net.createServer({ noDelay: true }, (socket) => {
  const scanner = new RequestScanner();
  socket.on("data", (chunk) => {
    scanner.feed(chunk);
    if (scanner.completed.length > 0) socket.write(cannedResponses(scanner.completed), "latin1");
  });
  socket.on("error", () => {});
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("ready"));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
