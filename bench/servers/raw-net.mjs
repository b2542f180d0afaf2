// The socket floor on Node and Deno: a node:net server that answers every
// request head with one canned "Hello World" response and does no HTTP work
// at all (no parsing beyond finding the blank line, no Request/Response
// objects). No real server over node:net can beat it, so it bounds what ours
// can reach on these runtimes. It serves only `GET /` without a body; the
// benchmark runs it in the hello-world scenarios only.
import net from "node:net";
import process from "node:process";
import { cannedResponse, countHeads } from "./raw-common.ts";

const server = net.createServer({ noDelay: true }, (socket) => {
  const state = { matched: 0 };
  socket.on("data", (chunk) => {
    const n = countHeads(state, chunk);
    if (n > 0) socket.write(n === 1 ? cannedResponse() : cannedResponse().repeat(n), "latin1");
  });
  socket.on("error", () => {});
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("ready"));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
