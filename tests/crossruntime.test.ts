// The product's promise: the same request gets the same bytes back whether
// the server runs on Node, Deno or Bun. Runs once (under Node) and starts the
// fixture server under all three runtimes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toLatin1 } from "./support/bytes.ts";
import { RawClient } from "./support/raw_client.ts";
import { withTimeout } from "./support/time.ts";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const fixture = join(root, "tests", "fixtures", "echo-server.ts");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const onlyOnce = (process.env.WAITRESS_TEST_RUNTIME ?? "node") === "node" && !("Deno" in globalThis) &&
  !("Bun" in globalThis);

const CORPUS = [
  // Keep-alive requests end with a `Connection: close` one, so every transcript ends in a close.
  "GET /app/x?q=1 HTTP/1.1\r\nHost: h:81\r\nX-A: 1\r\nx-a: 2\r\nX_Dropped: y\r\nConnection: close\r\n\r\n",
  "POST /app/p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nhello",
  "POST /app/c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n",
  "GET /stream HTTP/1.1\r\nHost: h\r\n\r\nGET /stream HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
  "GET /stream HTTP/1.0\r\n\r\n",
  "HEAD /app HTTP/1.1\r\nHost: h\r\n\r\nGET /app HTTP/1.0\r\n\r\n",
  "GET /empty HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
  "GET /throw HTTP/1.1\r\nHost: h\r\n\r\n",
  "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "GET / HTTP/1.1\r\n\r\n",
  "GET / HTTP/3.0\r\nHost: h\r\n\r\n",
  "get / HTTP/1.1\r\nHost: h\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
  "GET /app/1 HTTP/1.1\r\nHost: h\r\n\r\nGET /app/2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
  "GET /network-error HTTP/1.1\r\nHost: h\r\n\r\n",
  "GET /split HTTP/1.1\r\nHost: h\r\n\r\n",
  "GET /declared-only HTTP/1.1\r\nHost: h\r\n\r\n",
  "GET /app/e HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
  "GET http://u:p@h/app HTTP/1.1\r\nHost: h\r\n\r\n",
];

async function startFixture(runtime: string): Promise<{ port: number; stop: () => void }> {
  const argv = runtime === "deno" ? ["run", "-A", fixture] : [fixture];
  const child = spawn(bin(runtime), argv, { stdio: ["pipe", "pipe", "inherit"] });
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("\n")) resolve(Number(out.trim()));
      });
      child.on("exit", (code) => reject(new Error(`${runtime} fixture exited with ${code}`)));
    }),
    20000,
    `${runtime} fixture start`,
  );
  return { port, stop: () => child.stdin.end() };
}

/** What came back, with the parts that legitimately differ (date, peer port) normalised. */
async function transcript(port: number, request: string): Promise<string> {
  const c = await RawClient.open(port);
  try {
    c.send(request);
    await c.waitClosed(10000);
    return toLatin1(c.received).replace(/Date: [^\r]+/g, "Date: *");
  } finally {
    c.destroy();
  }
}

test("crossruntime: Node, Deno and Bun answer every request with the same bytes", { skip: !onlyOnce }, async () => {
  const servers = await Promise.all(["node", "deno", "bun"].map(startFixture));
  try {
    for (const request of CORPUS) {
      const [n, d, b] = await Promise.all(servers.map((s) => transcript(s.port, request)));
      assert.ok(n.startsWith("HTTP/1."), `node answered ${JSON.stringify(request)}`);
      assert.equal(d, n, `deno differs for ${JSON.stringify(request)}`);
      assert.equal(b, n, `bun differs for ${JSON.stringify(request)}`);
    }
  } finally {
    for (const s of servers) s.stop();
  }
});
