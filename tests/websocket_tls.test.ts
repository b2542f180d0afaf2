/**
 * WebSocket over TLS (wss:): upgradeWebSocket behind a TLS listener, through
 * real sockets on 127.0.0.1 with certificates made by openssl for this file.
 * A raw node:tls client checks the frames byte for byte (text, a binary
 * message with a 64-bit length, the closing handshake) and the access log
 * line of the upgrade; the built-in WebSocket clients of Node, Deno and Bun
 * and python3-websockets, each trusting the test CA, run the interop
 * messages (up to 1 MiB, with permessage-deflate offered).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";
import { upgradeWebSocket } from "../mod.ts";
import { haveOpenssl, makeCerts, type TestCerts } from "./support/certs.ts";
import { runToEnd } from "./support/process.ts";
import { RawClient } from "./support/raw_client.ts";
import { startServer, type TestServer } from "./support/server.ts";
import { withTimeout } from "./support/time.ts";
import { clientFrame, closeOf, interopResult, splitUpgrade, upgradeRequest } from "./support/websocket.ts";

const skip = haveOpenssl ? false : "needs /usr/bin/openssl (npm test installs it when run as root)";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const wsClient = join(root, "tests", "fixtures", "ws-client.ts");
const hasPythonWebsockets = existsSync("/usr/lib/python3/dist-packages/websockets/__init__.py");

let certs: TestCerts;
before(() => {
  if (haveOpenssl) certs = makeCerts();
});
after(() => certs?.remove());

/** An echo WebSocket server on TLS; it picks the client's last offered subprotocol and notes each socket's url. */
function echoServer(extra: Parameters<typeof startServer>[1] = {}, urls: string[] = []): Promise<TestServer> {
  return startServer((request) => {
    const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
    const { socket, response } = upgradeWebSocket(request, {
      protocol: offered.at(-1) || undefined,
      compression: new URL(request.url).searchParams.has("deflate"),
    });
    socket.binaryType = "arraybuffer";
    urls.push(socket.url);
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  }, { certfile: certs.serverCert, keyfile: certs.serverKey, ...extra });
}

/** A TLS connection trusting the test CA, as a RawClient; resolves once the handshake is done. */
function openWss(port: number): Promise<RawClient> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ca: certs.read(certs.caCert) });
      socket.once("secureConnect", () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    }),
    5000,
    "TLS connect",
  );
}

describe("WebSocket over TLS", { skip }, () => {
  it("echoes text and a 70,000-byte binary message, closes cleanly, and logs the 101 with the bytes sent", async () => {
    const dir = mkdtempSync(join(tmpdir(), "waitress-wss-"));
    try {
      const path = join(dir, "access.log");
      const urls: string[] = [];
      const format = '"%(r)s" %(s)s %(b)s %(B)s %(D)s';
      const t = await echoServer({ accessLogfile: path, accessLogformat: format }, urls);
      const binary = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
      let frameBytes = 0;
      try {
        const c = await openWss(t.port);
        c.send(upgradeRequest("/chat?room=1"));
        await c.waitFor(() => splitUpgrade(c.received).head !== null, 5000, "the 101");
        const head = splitUpgrade(c.received).head as string;
        assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
        assert.match(head, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
        c.send(clientFrame(0x1, "hello over tls"));
        c.send(clientFrame(0x2, binary));
        c.send(clientFrame(0x8, new Uint8Array([0x03, 0xe8, ...new TextEncoder().encode("bye")])));
        await c.waitFor(() => splitUpgrade(c.received).frames.length >= 3, 10_000, "two echoes and the Close");
        await c.waitClosed();
        assert.deepEqual(urls, [`wss://127.0.0.1/chat?room=1`]);
        const { frames, rest } = splitUpgrade(c.received);
        assert.equal(rest.length, 0, "nothing after the frames");
        assert.deepEqual(frames.map((f) => [f.opcode, f.fin]), [[0x1, true], [0x2, true], [0x8, true]]);
        assert.equal(new TextDecoder().decode(frames[0].payload), "hello over tls");
        assert.deepEqual(frames[1].payload, binary);
        assert.equal(closeOf(frames[2].payload).code, 1000);
        frameBytes = c.received.length - head.length;
      } finally {
        await t.server.shutdown();
      }
      const lines = readFileSync(path, "utf8").split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 1, lines.join("\n"));
      const [request, status, b, big, micros] = lines[0].split(" ").slice(-5);
      assert.equal(lines[0].startsWith('"GET /chat?room=1 HTTP/1.1" '), true, lines[0]);
      assert.equal(request, 'HTTP/1.1"');
      assert.equal(status, "101");
      assert.equal(b, String(frameBytes), "b counts every frame byte sent after the 101 head");
      assert.equal(big, String(frameBytes));
      assert.ok(Number(micros) > 0, lines[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("shutdown() closes a wss connection with 1001 and logs it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "waitress-wss-"));
    try {
      const path = join(dir, "access.log");
      const t = await echoServer({ accessLogfile: path, accessLogformat: "%(s)s %(b)s" });
      const c = await openWss(t.port);
      c.send(upgradeRequest("/"));
      await c.waitFor(() => splitUpgrade(c.received).head !== null, 5000, "the 101");
      const stopped = t.server.shutdown();
      await c.waitFor(() => splitUpgrade(c.received).frames.length >= 1, 5000, "the server's Close");
      const close = splitUpgrade(c.received).frames[0];
      assert.equal(close.opcode, 0x8);
      assert.equal(closeOf(close.payload).code, 1001);
      c.send(clientFrame(0x8, close.payload.subarray(0, 2)));
      await withTimeout(stopped, 10_000, "shutdown");
      const head = splitUpgrade(c.received).head as string;
      assert.deepEqual(readFileSync(path, "utf8"), `101 ${c.received.length - head.length}\n`);
      c.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The interop clients over wss:, each told to trust the test CA its own way. */
const CLIENTS: Record<string, (url: string) => [string, string[], Record<string, string>]> = {
  node: (url) => [bin("node"), [wsClient, url], { NODE_EXTRA_CA_CERTS: certs.caCert }],
  deno: (url) => [bin("deno"), ["run", "-A", `--cert=${certs.caCert}`, wsClient, url], {}],
  bun: (url) => [bin("bun"), [wsClient, url], { NODE_EXTRA_CA_CERTS: certs.caCert }],
  python: (url) => ["/usr/bin/python3", [join(root, "tests", "fixtures", "ws_client.py"), url, certs.caCert], {}],
};

describe("WebSocket over TLS: interop", { skip }, () => {
  for (const name of Object.keys(CLIENTS)) {
    const missing = name === "python" && !hasPythonWebsockets ? "python3-websockets is not installed" : false;
    it(`${name}'s client over wss:, permessage-deflate offered`, { skip: missing }, async () => {
      const t = await echoServer();
      try {
        const [cmd, args, env] = CLIENTS[name](`wss://127.0.0.1:${t.port}/${name}?deflate`);
        const result = await runToEnd(cmd, args, {
          cwd: root,
          env: { ...process.env, NO_COLOR: "1", ...env },
          timeoutMs: 30_000,
        });
        const seen = interopResult(name, result);
        // Node's, Bun's and Python's clients offer compression (Deno's does not): it must then be in use.
        assert.equal(seen.extensions, name === "deno" ? "" : "permessage-deflate");
        assert.ok(!t.logs.some((l) => l.startsWith("ERROR")), t.logs.join("\n"));
      } finally {
        await t.stop();
      }
    });
  }
});
