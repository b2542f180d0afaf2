// WebSocket echo on `ws` (npm) over node:http, the usual choice on Node.
// PORT from the environment; prints "ready".
import http from "node:http";
import process from "node:process";
import { WebSocketServer } from "ws";

const server = http.createServer((_req, res) => res.writeHead(426).end());
const wss = new WebSocketServer({ server });
wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => console.log("ready"));
