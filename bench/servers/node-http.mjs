// node:http with the benchmark app written against its own API (the native
// server on Node). keepAliveTimeout raised from 5 s so idle keep-alive
// connections stay open during the RSS measurement. node:https instead when
// BENCH_TLS_CERT and BENCH_TLS_KEY name PEM files.
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import process from "node:process";

const CHUNK = 64 * 1024;
const port = Number(process.env.PORT);

function stream(res, mib) {
  let left = mib * 16;
  res.writeHead(200, { "content-type": "application/octet-stream" });
  const pump = () => {
    while (left-- > 0) {
      if (!res.write(Buffer.alloc(CHUNK))) return void res.once("drain", pump);
    }
    res.end();
  };
  pump();
}

const { BENCH_TLS_CERT, BENCH_TLS_KEY } = process.env;
const tls = BENCH_TLS_CERT ? { cert: readFileSync(BENCH_TLS_CERT), key: readFileSync(BENCH_TLS_KEY) } : null;
const server = (tls ? https.createServer.bind(null, tls) : http.createServer)((req, res) => {
  const url = req.url;
  if (url === "/") {
    res.writeHead(200, { "content-type": "text/plain;charset=UTF-8", "content-length": 11 });
    res.end("Hello World");
  } else if (url === "/upload") {
    const parts = [];
    req.on("data", (c) => parts.push(c));
    req.on("end", () => {
      const body = String(Buffer.concat(parts).byteLength);
      res.writeHead(200, { "content-type": "text/plain;charset=UTF-8", "content-length": body.length });
      res.end(body);
    });
  } else if (url.startsWith("/stream")) {
    const m = /[?&]mib=(\d+)/.exec(url);
    stream(res, m ? Number(m[1]) : 64);
  } else {
    res.writeHead(404);
    res.end("Not Found");
  }
});
server.keepAliveTimeout = 120_000;
server.listen(port, "127.0.0.1", () => console.log("ready"));

// Exit cleanly on a signal so `node --cpu-prof` writes its profile.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
