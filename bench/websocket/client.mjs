// The WebSocket load client: N connections (ws, npm), each sending one
// binary message and waiting for its echo before the next, for a fixed
// time. Prints one JSON line: messages echoed per second and the number of
// connections that finished.
//
//   node bench/websocket/client.mjs --port=P --connections=50 --size=32 --seconds=5
import process from "node:process";
import WebSocket from "ws";

const arg = (name, fallback) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : fallback;
};
const port = arg("port", 0);
const connections = arg("connections", 50);
const size = arg("size", 32);
const seconds = arg("seconds", 5);
const warmup = arg("warmup", 1);
const payload = Buffer.alloc(size, 0x61);

let counting = false;
let echoed = 0;
let stop = false;
const sockets = [];

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, maxPayload: 1 << 26 });
    ws.on("open", () => resolve(ws));
    ws.on("error", reject);
  });
}

function loop(ws) {
  return new Promise((resolve) => {
    ws.on("message", () => {
      if (counting) echoed++;
      if (stop) return resolve();
      ws.send(payload);
    });
    ws.send(payload);
  });
}

for (let i = 0; i < connections; i++) sockets.push(await open());
const done = Promise.all(sockets.map(loop));
await new Promise((r) => setTimeout(r, warmup * 1000));
counting = true;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
counting = false;
const elapsed = (performance.now() - t0) / 1000;
stop = true;
await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
for (const ws of sockets) ws.terminate();
console.log(JSON.stringify({ messagesPerSecond: Math.round(echoed / elapsed), connections, size }));
process.exit(0);
