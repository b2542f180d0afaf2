// The socket floor on Node and Deno: a node:net server that answers every
// request head with one canned "Hello World" response and does no HTTP work
// at all (no parsing beyond finding the blank line, no Request/Response
// objects). No real server over node:net can beat it, so it bounds what ours
// can reach on these runtimes. It serves only `GET /` without a body; the
// benchmark runs it in the hello-world scenarios only.
import net from "node:net";
import process from "node:process";

const body = "Hello World";
let head = "";
let headSecond = -1;

/** The canned response, its Date refreshed once a second (as every real server does). */
function response() {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== headSecond) {
    headSecond = second;
    head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain;charset=UTF-8\r\ncontent-length: 11\r\n" +
      `date: ${new Date(now).toUTCString()}\r\n\r\n${body}`;
  }
  return head;
}

/** Counts request heads ("\r\n\r\n"), remembering a terminator split across reads. */
function countHeads(state, chunk) {
  let n = 0;
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i];
    const m = state.matched;
    if ((c === 13 && (m === 0 || m === 2)) || (c === 10 && (m === 1 || m === 3))) {
      state.matched = m + 1;
      if (state.matched === 4) {
        n++;
        state.matched = 0;
      }
    } else state.matched = c === 13 ? 1 : 0;
  }
  return n;
}

const server = net.createServer({ noDelay: true }, (socket) => {
  const state = { matched: 0 };
  socket.on("data", (chunk) => {
    const n = countHeads(state, chunk);
    if (n > 0) socket.write(n === 1 ? response() : response().repeat(n), "latin1");
  });
  socket.on("error", () => {});
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("ready"));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
