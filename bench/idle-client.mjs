// Opens N keep-alive connections to HOST:PORT, sends one `GET /` on each and
// reads the answer (so the server has set the connection up completely), then
// holds them idle. Prints `{"ready":N,"failed":K}` once all are idle; on the
// line "check" from stdin prints `{"alive":M}`; exits on stdin close.
//
//   node bench/idle-client.mjs 127.0.0.1 18000 1000
import net from "node:net";
import process from "node:process";

const [host, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText ?? 1000);
const BATCH = 50;
const sockets = [];
let failed = 0;

function open() {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let got = "";
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ok) sockets.push(socket);
      else {
        failed++;
        socket.destroy();
      }
      resolve();
    };
    const timer = setTimeout(() => finish(false), 10_000);
    socket.setEncoding("latin1");
    socket.on("connect", () => socket.write(`GET / HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`));
    socket.on("data", (d) => {
      got += d;
      if (got.includes("Hello World")) finish(true);
    });
    socket.on("error", () => finish(false));
    socket.on("close", () => {
      socket.closedAt ??= Date.now();
      finish(false);
    });
  });
}

for (let i = 0; i < count; i += BATCH) {
  const batch = [];
  for (let j = i; j < Math.min(count, i + BATCH); j++) batch.push(open());
  await Promise.all(batch);
}
console.log(JSON.stringify({ ready: sockets.length, failed }));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  input += d;
  let nl;
  while ((nl = input.indexOf("\n")) >= 0) {
    const line = input.slice(0, nl).trim();
    input = input.slice(nl + 1);
    if (line === "check") console.log(JSON.stringify({ alive: sockets.filter((s) => !s.closedAt).length }));
  }
});
process.stdin.on("end", () => {
  for (const s of sockets) s.destroy();
  process.exit(0);
});
