// WebSocket through the real engine over 127.0.0.1, with a raw client that
// writes the bytes itself: the handshake rules, the 101, the engine's
// duties after it (slot, connectionLimit, channelTimeout, shutdown, close),
// the framing rules on the wire (the behaviours Autobahn|Testsuite checks,
// as our own cases) and one regression test per `ws` advisory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { upgradeWebSocket, type UpgradeWebSocketOptions } from "../mod.ts";
import {
  closePayload,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
} from "../lib/websocket/frame.ts";
import { acceptKey } from "../lib/websocket/handshake.ts";
import { RawClient } from "./support/raw_client.ts";
import { startServer, type TestServer } from "./support/server.ts";
import { sleep, withTimeout } from "./support/time.ts";
import { clientFrame, closeOf, type ServerFrame, splitUpgrade, upgradeRequest } from "./support/websocket.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const dec = new TextDecoder();

/** An echo server; `options` go to upgradeWebSocket, `serveOptions` to serve(). */
function echoServer(options: UpgradeWebSocketOptions = {}, serveOptions = {}): Promise<TestServer> {
  return startServer((request) => {
    const url = new URL(request.url);
    if (url.pathname === "/plain") return new Response("plain");
    const { socket, response } = upgradeWebSocket(request, {
      ...options,
      protocol: url.searchParams.get("protocol") ?? options.protocol,
    });
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      if (event.data === "close-me") socket.close(4001, "asked");
      else if (event.data === "boom") throw new Error("app bug");
      else socket.send(event.data);
    };
    if (url.pathname === "/headers") response.headers.set("x-app", "yes");
    return response;
  }, serveOptions);
}

/** Opens a WebSocket with a raw client; waits for the 101. */
async function open(
  port: number,
  path = "/",
  extra = "",
  first?: Uint8Array,
): Promise<{ client: RawClient; head: string }> {
  const client = await RawClient.open(port);
  const request = new TextEncoder().encode(upgradeRequest(path, extra));
  client.send(first ? new Uint8Array([...request, ...first]) : request);
  await client.waitFor(() => splitUpgrade(client.received).head !== null, 5000, "101");
  const { head } = splitUpgrade(client.received);
  assert.match(head!, /^HTTP\/1\.1 101 /, head!);
  return { client, head: head! };
}

function framesOf(client: RawClient): ServerFrame[] {
  return splitUpgrade(client.received).frames;
}

async function waitFrames(client: RawClient, count: number, ms = 5000): Promise<ServerFrame[]> {
  await client.waitFor(() => framesOf(client).length >= count, ms, `${count} frames`);
  return framesOf(client);
}

/** Waits for the server's Close frame and returns its code. */
async function closeCode(client: RawClient, ms = 5000): Promise<number> {
  await client.waitFor(() => framesOf(client).some((f) => f.opcode === OP_CLOSE), ms, "a Close frame");
  return closeOf(framesOf(client).find((f) => f.opcode === OP_CLOSE)!.payload).code;
}

test("handshake: the 101 carries the accept key, no subprotocol unless chosen, and the app's headers", async () => {
  const t = await echoServer();
  try {
    const a = await open(t.port, "/headers", "Sec-WebSocket-Protocol: chat, other\r\n");
    assert.match(a.head, new RegExp(`\r\nsec-websocket-accept: ${acceptKey(KEY).replace(/[+/=]/g, "\\$&")}\r\n`, "i"));
    assert.doesNotMatch(a.head, /sec-websocket-protocol/i, "none chosen: none named (Bun names the first offer)");
    assert.match(a.head, /\r\nx-app: yes\r\n/i);
    assert.match(a.head, /\r\nupgrade: websocket\r\n/i);
    assert.doesNotMatch(a.head, /content-length|transfer-encoding/i);
    a.client.destroy();
    const b = await open(t.port, "/?protocol=other", "Sec-WebSocket-Protocol: chat, other\r\n");
    assert.match(b.head, /\r\nsec-websocket-protocol: other\r\n/i);
    b.client.destroy();
  } finally {
    await t.stop();
  }
});

test("handshake: bad requests are answered 400, a wrong or missing version 426 with Sec-WebSocket-Version: 13", async () => {
  const t = await echoServer();
  try {
    const cases: Array<[string, number]> = [
      [upgradeRequest().replace("GET", "POST").replace("\r\n\r\n", "\r\nContent-Length: 0\r\n\r\n"), 400],
      [upgradeRequest().replace("HTTP/1.1", "HTTP/1.0"), 400],
      [upgradeRequest().replace("Connection: Upgrade", "Connection: keep-alive"), 400],
      [upgradeRequest().replace("Upgrade: websocket", "Upgrade: h2c"), 400],
      [upgradeRequest().replace(`Sec-WebSocket-Key: ${KEY}\r\n`, ""), 400],
      [upgradeRequest().replace(KEY, "short=="), 400],
      [upgradeRequest().replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), 426],
      [upgradeRequest().replace("Sec-WebSocket-Version: 13\r\n", ""), 426],
    ];
    for (const [request, status] of cases) {
      const client = await RawClient.open(t.port);
      client.send(request);
      const [response] = await client.responses(1);
      assert.equal(response.status, status, request);
      if (status === 426) assert.deepEqual(response.headers.get("sec-websocket-version"), ["13"]);
      client.destroy();
    }
    assert.ok(!t.logs.some((l) => l.startsWith("ERROR")), t.logs.join("\n"));
  } finally {
    await t.stop();
  }
});

test("CVE-2024-37890 class: repeated keys, versions or thousands of headers never crash the server", async () => {
  const t = await echoServer({}, { maxRequestHeaderSize: 1 << 20 });
  try {
    const repeatedKey = upgradeRequest("/", `Sec-WebSocket-Key: ${KEY}\r\n`);
    const repeatedVersion = upgradeRequest("/", "Sec-WebSocket-Version: 13\r\n");
    for (const [request, status] of [[repeatedKey, 400], [repeatedVersion, 426]] as const) {
      const client = await RawClient.open(t.port);
      client.send(request);
      assert.equal((await client.responses(1))[0].status, status);
      client.destroy();
    }
    let many = "";
    for (let i = 0; i < 3000; i++) many += `X-${i}: y\r\n`;
    const a = await open(t.port, "/", many);
    a.client.send(clientFrame(OP_TEXT, "still here"));
    assert.equal(dec.decode((await waitFrames(a.client, 1))[0].payload), "still here");
    a.client.destroy();
  } finally {
    await t.stop();
  }
});

test("handshake: frames sent in the same packet as the request head are not lost", async () => {
  const t = await echoServer();
  try {
    const first = new Uint8Array([...clientFrame(OP_TEXT, "one"), ...clientFrame(OP_TEXT, "two")]);
    const { client } = await open(t.port, "/", "", first);
    const frames = await waitFrames(client, 2);
    assert.deepEqual(frames.map((f) => dec.decode(f.payload)), ["one", "two"]);
    client.destroy();
  } finally {
    await t.stop();
  }
});

test("a request with an Upgrade header that is not upgraded stays HTTP, pipelined requests after it included", async () => {
  const t = await echoServer();
  try {
    const client = await RawClient.open(t.port);
    client.send(
      "GET /plain HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    const responses = await client.responses(2);
    assert.deepEqual(responses.map((r) => [r.status, r.text]), [[200, "plain"], [200, "plain"]]);
    client.destroy();
  } finally {
    await t.stop();
  }
});

test("after the 101 the threads slot is free and the connection still counts toward connectionLimit", async () => {
  const t = await echoServer({}, { threads: 1, connectionLimit: 2 });
  try {
    const a = await open(t.port);
    // With threads = 1, an HTTP request is served while the WebSocket is open.
    const http = await RawClient.open(t.port);
    http.send("GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal((await http.responses(1))[0].text, "plain");
    await http.waitClosed();
    const b = await open(t.port);
    assert.equal(t.server.stats().connections, 2);
    // A third connection waits in the backlog until a WebSocket closes.
    const c = await RawClient.open(t.port);
    c.send("GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await sleep(200);
    assert.equal(c.received.length, 0);
    a.client.send(clientFrame(OP_CLOSE, closePayload(1000)));
    assert.equal((await c.responses(1))[0].text, "plain");
    b.client.destroy();
    c.destroy();
  } finally {
    await t.stop();
  }
});

test("channelTimeout gives way to idleTimeout: an answering client stays, a silent one is pinged then closed 1001", async () => {
  const t = await echoServer({ idleTimeout: 1 }, { channelTimeout: 1, cleanupInterval: 1 });
  try {
    const live = await open(t.port);
    const silent = await open(t.port);
    const end = Date.now() + 3200;
    let answered = 0;
    while (Date.now() < end) {
      for (const f of framesOf(live.client).slice(answered)) {
        if (f.opcode === OP_PING) live.client.send(clientFrame(OP_PONG, f.payload));
      }
      answered = framesOf(live.client).length;
      await sleep(50);
    }
    assert.ok(framesOf(live.client).some((f) => f.opcode === OP_PING), "the live client was pinged");
    live.client.send(clientFrame(OP_TEXT, "alive"));
    await live.client.waitFor(() => framesOf(live.client).some((f) => f.opcode === OP_TEXT), 2000, "echo");
    const silentFrames = framesOf(silent.client);
    assert.equal(silentFrames[0].opcode, OP_PING);
    assert.deepEqual(closeOf(silentFrames.find((f) => f.opcode === OP_CLOSE)!.payload), {
      code: 1001,
      reason: "No response from ping frame.",
    });
    await silent.client.waitClosed();
    live.client.destroy();
  } finally {
    await t.stop();
  }
});

test("shutdown() closes every WebSocket with 1001 and waits for the closing handshake; close() cuts them", async () => {
  const t = await echoServer({ idleTimeout: 0 });
  const a = await open(t.port);
  const b = await open(t.port);
  const stopped = t.server.shutdown();
  assert.equal(await closeCode(a.client), 1001);
  assert.equal(await closeCode(b.client), 1001);
  let done = false;
  void stopped.then(() => (done = true));
  await sleep(100);
  assert.equal(done, false, "shutdown waits for the clients' Close");
  a.client.send(clientFrame(OP_CLOSE, closePayload(1001)));
  b.client.send(clientFrame(OP_CLOSE, closePayload(1001)));
  await withTimeout(stopped, 3000, "shutdown");
  await a.client.waitClosed();

  const u = await echoServer({ idleTimeout: 0 });
  const c = await open(u.port);
  await withTimeout(u.server.close(), 2000, "close");
  await c.client.waitClosed();
  assert.equal(framesOf(c.client).length, 0, "close() sends nothing");
});

test("shutdown() cuts a WebSocket whose client never answers the Close, after a bounded wait", async () => {
  const t = await echoServer({ idleTimeout: 0 });
  const a = await open(t.port);
  const started = Date.now();
  await withTimeout(t.server.shutdown(), 8000, "shutdown");
  assert.ok(Date.now() - started >= 1000, "waited for the handshake");
  assert.equal(await closeCode(a.client), 1001);
  await a.client.waitClosed();
});

test("an exception in the app's message listener is logged; the socket and the server carry on", async () => {
  const t = await echoServer();
  try {
    const { client } = await open(t.port);
    client.send(clientFrame(OP_TEXT, "boom"));
    client.send(clientFrame(OP_TEXT, "after"));
    assert.equal(dec.decode((await waitFrames(client, 1))[0].payload), "after");
    assert.ok(t.logs.some((l) => l.startsWith("ERROR") && l.includes("app bug")), t.logs.join("\n"));
    client.destroy();
  } finally {
    await t.stop();
  }
});

// ---- Autobahn-style behaviours, as our own cases ----

test("framing: text and binary of every length class echo byte for byte (Autobahn 1.x)", async () => {
  const t = await echoServer();
  try {
    const { client } = await open(t.port);
    const sizes = [0, 1, 125, 126, 127, 65535, 65536, 300_000];
    for (const n of sizes) client.send(clientFrame(OP_BINARY, new Uint8Array(n).fill(n & 0xff)));
    client.send(clientFrame(OP_TEXT, "é".repeat(40_000)));
    const frames = await waitFrames(client, sizes.length + 1);
    assert.deepEqual(frames.slice(0, sizes.length).map((f) => f.payload.length), sizes);
    assert.equal(dec.decode(frames[sizes.length].payload), "é".repeat(40_000));
    client.destroy();
  } finally {
    await t.stop();
  }
});

test("framing: a client frame sent one byte at a time is reassembled", async () => {
  const t = await echoServer();
  try {
    const { client } = await open(t.port);
    const frame = clientFrame(OP_TEXT, "slowly");
    for (const byte of frame) {
      client.send(new Uint8Array([byte]));
      await sleep(2);
    }
    assert.equal(dec.decode((await waitFrames(client, 1))[0].payload), "slowly");
    client.destroy();
  } finally {
    await t.stop();
  }
});

test("pings: answered with the same payload, also between fragments; 125 bytes accepted (Autobahn 2.x)", async () => {
  const t = await echoServer();
  try {
    const { client } = await open(t.port);
    client.send(clientFrame(OP_PING, new Uint8Array(125).fill(9)));
    client.send(clientFrame(OP_TEXT, "frag", { fin: false }));
    client.send(clientFrame(OP_PING, "mid"));
    client.send(clientFrame(OP_CONTINUATION, "ment"));
    client.send(clientFrame(OP_PONG, "unsolicited"));
    const frames = await waitFrames(client, 3);
    assert.deepEqual(frames.map((f) => [f.opcode, f.payload.length]), [[OP_PONG, 125], [OP_PONG, 3], [OP_TEXT, 8]]);
    assert.equal(dec.decode(frames[2].payload), "fragment");
    client.destroy();
  } finally {
    await t.stop();
  }
});

/** Sends `bytes` on a fresh WebSocket and returns the code of the server's Close (and checks the TCP close). */
async function failWith(
  port: number,
  bytes: Uint8Array,
  before?: Uint8Array,
): Promise<{ code: number; echoed: number }> {
  const { client } = await open(port);
  if (before) client.send(before);
  client.send(bytes);
  const code = await closeCode(client);
  await client.waitClosed();
  const echoed = framesOf(client).filter((f) => f.opcode !== OP_CLOSE).length;
  client.destroy();
  return { code, echoed };
}

test("protocol errors close with 1002: reserved bits, opcodes, unmasked, control-frame rules, fragmentation (Autobahn 3-5)", async () => {
  const t = await echoServer();
  try {
    const unmasked = new Uint8Array([0x81, 0x01, 0x61]);
    const cases: Uint8Array[] = [
      clientFrame(OP_TEXT, "x", { rsv1: true }),
      clientFrame(OP_TEXT, "x", { rsv2: true }),
      clientFrame(OP_TEXT, "x", { rsv3: true }),
      clientFrame(3, ""),
      clientFrame(0xb, ""),
      unmasked,
      clientFrame(OP_PING, "x", { fin: false }),
      clientFrame(OP_PING, new Uint8Array(126)),
      clientFrame(OP_CONTINUATION, "x"),
      new Uint8Array([...clientFrame(OP_TEXT, "a", { fin: false }), ...clientFrame(OP_BINARY, "b")]),
    ];
    for (const bytes of cases) assert.equal((await failWith(t.port, bytes)).code, 1002, Array.from(bytes).join(","));
    // A valid message before the bad frame is still delivered.
    const r = await failWith(t.port, clientFrame(OP_TEXT, "x", { rsv2: true }), clientFrame(OP_TEXT, "ok"));
    assert.equal(r.echoed, 1);
  } finally {
    await t.stop();
  }
});

test("UTF-8: invalid text fails with 1007, at once and across fragments; valid split sequences pass (Autobahn 6.x)", async () => {
  const t = await echoServer();
  try {
    assert.equal((await failWith(t.port, clientFrame(OP_TEXT, new Uint8Array([0xed, 0xa0, 0x80])))).code, 1007);
    assert.equal((await failWith(t.port, clientFrame(OP_TEXT, new Uint8Array([0xf4, 0x90, 0x80, 0x80])))).code, 1007);
    assert.equal((await failWith(t.port, clientFrame(OP_TEXT, new Uint8Array([0xc0, 0xaf])))).code, 1007);
    // Fail fast: the first fragment is bad, the message never finishes.
    assert.equal(
      (await failWith(t.port, clientFrame(OP_TEXT, new Uint8Array([0x61, 0xff]), { fin: false }))).code,
      1007,
    );
    const { client } = await open(t.port);
    const smiley = new TextEncoder().encode("😀");
    client.send(clientFrame(OP_TEXT, smiley.subarray(0, 1), { fin: false }));
    client.send(clientFrame(OP_CONTINUATION, smiley.subarray(1, 3), { fin: false }));
    client.send(clientFrame(OP_CONTINUATION, smiley.subarray(3)));
    assert.equal(dec.decode((await waitFrames(client, 1))[0].payload), "😀");
    client.destroy();
  } finally {
    await t.stop();
  }
});

test("close handling: echo of the code, bad codes 1002, bad reason 1007, one-byte payload 1002 (Autobahn 7.x)", async () => {
  const t = await echoServer();
  try {
    for (const code of [1000, 1001, 3000, 4999]) {
      const { client } = await open(t.port);
      client.send(clientFrame(OP_CLOSE, closePayload(code, "why")));
      assert.equal(await closeCode(client), code);
      await client.waitClosed();
      client.destroy();
    }
    const empty = await open(t.port);
    empty.client.send(clientFrame(OP_CLOSE, ""));
    await empty.client.waitClosed();
    assert.equal(framesOf(empty.client)[0].payload.length, 0);
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 2000, 5000]) {
      assert.equal((await failWith(t.port, clientFrame(OP_CLOSE, closePayload(code)))).code, 1002, String(code));
    }
    assert.equal((await failWith(t.port, clientFrame(OP_CLOSE, new Uint8Array([3])))).code, 1002);
    const badReason = new Uint8Array([0x03, 0xe8, 0xff]);
    assert.equal((await failWith(t.port, clientFrame(OP_CLOSE, badReason))).code, 1007);
    // Data after the client's Close is ignored.
    const after = await open(t.port);
    after.client.send(new Uint8Array([...clientFrame(OP_CLOSE, closePayload(1000)), ...clientFrame(OP_TEXT, "late")]));
    await after.client.waitClosed();
    assert.deepEqual(framesOf(after.client).map((f) => f.opcode), [OP_CLOSE]);
  } finally {
    await t.stop();
  }
});

test("server-initiated close: the app's code goes out, the client's answer completes it", async () => {
  const t = await echoServer();
  try {
    const { client } = await open(t.port);
    client.send(clientFrame(OP_TEXT, "close-me"));
    assert.equal(await closeCode(client), 4001);
    client.send(clientFrame(OP_CLOSE, closePayload(4001)));
    await client.waitClosed();
  } finally {
    await t.stop();
  }
});

test("limits: maxPayload (1009) over one frame or over fragments; a 2^63 length header; nothing echoed (Autobahn 9.x)", async () => {
  const t = await echoServer({ maxPayload: 1000 });
  try {
    assert.equal((await failWith(t.port, clientFrame(OP_BINARY, new Uint8Array(1001)))).code, 1009);
    const frags = new Uint8Array([
      ...clientFrame(OP_BINARY, new Uint8Array(600), { fin: false }),
      ...clientFrame(OP_CONTINUATION, new Uint8Array(600)),
    ]);
    assert.equal((await failWith(t.port, frags)).code, 1009);
    const huge = new Uint8Array([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
    assert.equal((await failWith(t.port, huge)).code, 1009);
    const { client } = await open(t.port);
    client.send(clientFrame(OP_BINARY, new Uint8Array(1000)));
    assert.equal((await waitFrames(client, 1))[0].payload.length, 1000);
    client.destroy();
  } finally {
    await t.stop();
  }
});

test("GHSA-96hv-2xvq-fx4p class: endless tiny or empty fragments are cut (1008) and the server keeps serving", async () => {
  const t = await echoServer();
  try {
    const parts: number[] = [...clientFrame(OP_BINARY, "", { fin: false })];
    const empty = clientFrame(OP_CONTINUATION, "", { fin: false });
    for (let i = 0; i < 20_000; i++) parts.push(...empty);
    assert.equal((await failWith(t.port, new Uint8Array(parts))).code, 1008);
    const { client } = await open(t.port);
    client.send(clientFrame(OP_TEXT, "fine"));
    assert.equal(dec.decode((await waitFrames(client, 1))[0].payload), "fine");
    client.destroy();
  } finally {
    await t.stop();
  }
});

test("backpressureLimit: a client that reads nothing is closed with 1008 instead of buffering without bound", async () => {
  let closeCodeSeen = 0;
  const t = await startServer((request) => {
    const { socket, response } = upgradeWebSocket(request, { backpressureLimit: 256 * 1024, idleTimeout: 0 });
    socket.onopen = () => {
      const chunk = new Uint8Array(64 * 1024);
      const pump = () => {
        for (let i = 0; i < 16 && socket.readyState === 1; i++) socket.send(chunk);
        if (socket.readyState === 1) setTimeout(pump, 5);
      };
      pump();
    };
    socket.onclose = (e) => (closeCodeSeen = e.code);
    return response;
  });
  try {
    const { client } = await open(t.port);
    client.socket.pause();
    const end = Date.now() + 10_000;
    while (closeCodeSeen === 0 && Date.now() < end) await sleep(20);
    assert.equal(closeCodeSeen, 1008);
    client.destroy();
  } finally {
    await t.stop();
  }
});
