// The interop matrix: our server, on the runtime running this file, against
// the built-in WebSocket clients of Node 24, Deno and Bun (spawned from
// node_modules/.bin) and Debian's python3-websockets, with and without
// permessage-deflate. `npm test` runs this file on all three runtimes, so
// every server runtime meets every client. Also the Hono helper end to end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { upgradeWebSocket } from "../mod.ts";
import { upgradeWebSocket as honoUpgradeWebSocket } from "../hono.ts";
import { negotiateDeflate } from "../lib/websocket/extensions.ts";
import { runToEnd } from "./support/process.ts";
import { startServer, type TestServer } from "./support/server.ts";
import { interopResult } from "./support/websocket.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const client = join(root, "tests", "fixtures", "ws-client.ts");
const python = "/usr/bin/python3";
const hasPythonWebsockets = existsSync("/usr/lib/python3/dist-packages/websockets/__init__.py");

const CLIENTS: Record<string, (url: string) => [string, string[]]> = {
  node: (url) => [bin("node"), [client, url]],
  deno: (url) => [bin("deno"), ["run", "-A", client, url]],
  bun: (url) => [bin("bun"), [client, url]],
  python: (url) => [python, [join(root, "tests", "fixtures", "ws_client.py"), url]],
};

/** The echo app: chooses the client's last offered subprotocol (a server echoing the first would be caught). */
async function echoServer(offers: Map<string, string | null>): Promise<TestServer> {
  return await startServer((request) => {
    const url = new URL(request.url);
    offers.set(url.pathname, request.headers.get("sec-websocket-extensions"));
    const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
    const { socket, response } = upgradeWebSocket(request, {
      protocol: offered.at(-1),
      compression: url.searchParams.has("deflate"),
    });
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  });
}

for (const deflate of [false, true]) {
  for (const name of Object.keys(CLIENTS)) {
    const skip = name === "python" && !hasPythonWebsockets ? "python3-websockets is not installed" : false;
    test(
      `interop: ${name}'s WebSocket client, ${deflate ? "permessage-deflate offered" : "no compression"}`,
      { skip },
      async () => {
        const offers = new Map<string, string | null>();
        const t = await echoServer(offers);
        try {
          const path = `/${name}`;
          const [cmd, args] = CLIENTS[name](`ws://127.0.0.1:${t.port}${path}${deflate ? "?deflate" : ""}`);
          const result = await runToEnd(cmd, args, { cwd: root, timeoutMs: 30_000 });
          const seen = interopResult(name, result);
          const agreed = deflate ? negotiateDeflate(offers.get(path) ?? null)?.response ?? "" : "";
          assert.equal(seen.extensions, agreed);
          // Node's, Bun's and Python's clients offer compression (Deno's does not): it must then be in use.
          if (deflate && name !== "deno") assert.equal(seen.extensions, "permessage-deflate");
          assert.ok(!t.logs.some((l) => l.startsWith("ERROR")), t.logs.join("\n"));
        } finally {
          await t.stop();
        }
      },
    );
  }
}

test("Hono helper: upgradeWebSocket from ./hono, end to end, behind middleware that rebuilds the response", async () => {
  const events: string[] = [];
  const app = new Hono();
  // cors() plus a header set before next(): Hono then rebuilds the handler's response with new Response(body, res).
  app.use("*", cors());
  app.use("*", async (c, next) => {
    c.header("x-middleware", "1");
    await next();
  });
  app.get("/", (c) => c.text("plain"));
  app.get(
    "/ws",
    honoUpgradeWebSocket(() => ({
      onOpen: (_event, ws) => {
        events.push(`open ${ws.protocol}`);
        ws.send("welcome");
      },
      onMessage: (event, ws) => {
        events.push(`message ${event.data}`);
        ws.send(`echo ${event.data}`);
      },
      onClose: (event) => events.push(`close ${event.code}`),
    })),
  );
  const t = await startServer(app);
  try {
    assert.equal(await (await fetch(`http://127.0.0.1:${t.port}/`)).text(), "plain");
    const plainWs = await fetch(`http://127.0.0.1:${t.port}/ws`);
    assert.equal(plainWs.status, 404, "not an upgrade: the middleware passes it on");
    await plainWs.body?.cancel();
    const ws = new WebSocket(`ws://127.0.0.1:${t.port}/ws`, ["chat"]);
    const received: string[] = [];
    const closed = new Promise<number>((resolve, reject) => {
      ws.onmessage = (event) => {
        received.push(String(event.data));
        if (received.length === 1) ws.send("hi");
        else ws.close(1000);
      };
      ws.onclose = (event) => resolve(event.code);
      ws.onerror = () => reject(new Error("client error"));
      setTimeout(() => reject(new Error("timed out")), 10_000);
    });
    assert.equal(await closed, 1000);
    assert.equal(ws.protocol, "chat");
    assert.deepEqual(received, ["welcome", "echo hi"]);
    for (let i = 0; i < 100 && events.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(events, ["open chat", "message hi", "close 1000"]);
  } finally {
    await t.stop();
  }
});
