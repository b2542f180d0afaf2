// The session over a transport double: what goes on the wire for every
// event (pings, close handshakes, failures, limits, compression), the
// socket's events and readyState, and bufferedAmount. Socket-level tests
// over real connections are in websocket_socket.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CLOSE,
  closePayload,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
} from "../lib/websocket/frame.ts";
import { negotiateDeflate } from "../lib/websocket/extensions.ts";
import { MessageDeflater, MessageInflater } from "../lib/websocket/deflate.ts";
import { type SessionOptions, WebSocketSession } from "../lib/websocket/session.ts";
import { ServerWebSocket } from "../lib/websocket/socket.ts";
import { clientFrame, closeOf, FakeTransport } from "./support/websocket.ts";

const BASE: SessionOptions = {
  maxPayload: 1 << 20,
  maxFragments: 100,
  idleTimeout: 0,
  backpressureLimit: 1 << 20,
  closeTimeout: 200,
  deflate: null,
};

function setup(options: Partial<SessionOptions> = {}, gathers = false) {
  const transport = new FakeTransport(gathers);
  const socket = new ServerWebSocket("ws://127.0.0.1/x", "");
  const log: string[] = [];
  const errors: string[] = [];
  socket.addEventListener("open", () => log.push("open"));
  socket.addEventListener("message", (e) => {
    const data = (e as MessageEvent).data;
    log.push(
      `message ${
        typeof data === "string" ? data : data instanceof Blob ? `blob ${data.size}` : `ab ${data.byteLength}`
      }`,
    );
  });
  socket.addEventListener("error", (e) => log.push(`error ${(e as Event & { message: string }).message}`));
  socket.addEventListener("close", (e) => {
    const c = e as CloseEvent;
    log.push(`close ${c.code} ${c.reason} ${c.wasClean}`);
  });
  const session = new WebSocketSession(transport, socket, { ...BASE, ...options }, (m) => errors.push(m));
  return { transport, socket, session, log, errors };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

/** Waits (bounded) until `ready()` holds. */
async function until(ready: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await tick();
  }
}

test("session: open, echo a text, answer a ping with the same payload", () => {
  const { transport, socket, session, log } = setup();
  socket.onmessage = (e) => socket.send(e.data);
  session.open(null);
  assert.equal(socket.readyState, 1);
  session.onData(clientFrame(OP_TEXT, "hi"));
  session.onData(clientFrame(OP_PING, "abc"));
  const frames = transport.frames();
  assert.deepEqual(frames.map((f) => [f.opcode, new TextDecoder().decode(f.payload)]), [[OP_TEXT, "hi"], [
    OP_PONG,
    "abc",
  ]]);
  assert.deepEqual(log, ["open", "message hi"]);
});

test("session: bytes that came behind the request head are parsed at open", () => {
  const { session, log } = setup();
  const leftover = new Uint8Array([...clientFrame(OP_TEXT, "early"), ...clientFrame(OP_TEXT, "late").subarray(0, 3)]);
  session.open(leftover);
  session.onData(clientFrame(OP_TEXT, "late").subarray(3));
  assert.deepEqual(log, ["open", "message early", "message late"]);
});

test("session: binaryType blob by default, arraybuffer when asked", () => {
  const { socket, session, log } = setup();
  session.open(null);
  session.onData(clientFrame(OP_BINARY, new Uint8Array(3)));
  socket.binaryType = "arraybuffer";
  session.onData(clientFrame(OP_BINARY, new Uint8Array(4)));
  socket.binaryType = "nonsense" as "blob";
  assert.equal(socket.binaryType, "arraybuffer");
  assert.deepEqual(log.slice(1), ["message blob 3", "message ab 4"]);
});

test("session: the peer's Close is echoed with its code, then the connection closes; the close is clean", () => {
  const { transport, socket, session, log } = setup();
  session.open(null);
  session.onData(clientFrame(OP_CLOSE, closePayload(4000, "done")));
  const last = transport.frames().at(-1)!;
  assert.equal(last.opcode, OP_CLOSE);
  assert.deepEqual(closeOf(last.payload), { code: 4000, reason: "" });
  assert.equal(socket.readyState, 2);
  assert.ok(transport.closed);
  session.onClose();
  assert.equal(socket.readyState, 3);
  assert.deepEqual(log, ["open", "close 4000 done true"]);
  // An empty Close is answered with an empty Close; its event says 1005.
  const b = setup();
  b.session.open(null);
  b.session.onData(clientFrame(OP_CLOSE, ""));
  assert.equal(b.transport.frames().at(-1)!.payload.length, 0);
  b.session.onClose();
  assert.deepEqual(b.log, ["open", "close 1005  true"]);
});

test("session: socket.close() sends a Close, messages after it are dropped, and the peer's answer completes it", () => {
  const { transport, socket, session, log } = setup();
  session.open(null);
  socket.send("before");
  socket.close(1000, "bye");
  socket.send("after");
  assert.equal(socket.readyState, 2);
  const frames = transport.frames();
  assert.deepEqual(frames.map((f) => f.opcode), [OP_TEXT, OP_CLOSE]);
  assert.deepEqual(closeOf(frames[1].payload), { code: 1000, reason: "bye" });
  // Messages still arrive while CLOSING (the peer may have sent them before seeing our Close).
  session.onData(clientFrame(OP_TEXT, "late"));
  session.onData(clientFrame(OP_CLOSE, closePayload(1000)));
  assert.ok(transport.closed);
  session.onClose();
  assert.deepEqual(log, ["open", "message late", "close 1000  true"]);
});

test("session: close() validates like the browser", () => {
  const { socket, session } = setup();
  session.open(null);
  assert.throws(() => socket.close(1001), { name: "InvalidAccessError" });
  assert.throws(() => socket.close(2999), { name: "InvalidAccessError" });
  assert.throws(() => socket.close(1000, "x".repeat(124)), { name: "SyntaxError" });
  socket.close(4999, "é".repeat(61));
  socket.close(1000); // already closing: nothing
});

test("session: a peer that never answers our Close is cut after the close timeout", async () => {
  const { transport, socket, session, log } = setup({ closeTimeout: 30 });
  session.open(null);
  socket.close();
  await new Promise((r) => setTimeout(r, 80));
  assert.ok(transport.destroyed);
  session.onClose();
  assert.deepEqual(log, ["open", "close 1006  false"]);
});

test("session: a protocol error sends its code, fires error then close (not clean), and reads nothing more", () => {
  const { transport, session, log } = setup();
  session.open(null);
  session.onData(clientFrame(OP_CONTINUATION, "x"));
  session.onData(clientFrame(OP_TEXT, "ignored"));
  const frames = transport.frames();
  assert.equal(frames.length, 1);
  assert.equal(closeOf(frames[0].payload).code, 1002);
  assert.ok(transport.closed);
  session.onClose();
  assert.equal(log[0], "open");
  assert.match(log[1], /^error continuation/);
  assert.match(log[2], /^close 1002 .* false$/);
});

test("session: EOF without a Close is an abnormal closure (1006)", () => {
  const { transport, session, log } = setup();
  session.open(null);
  session.onEnd();
  assert.ok(transport.closed);
  session.onClose();
  assert.deepEqual(log, ["open", "close 1006  false"]);
});

test("session: bufferedAmount counts message bytes until the transport passes them on", () => {
  const { transport, socket, session } = setup({}, true);
  transport.held = 10; // the 101 head still queued
  session.open(null);
  socket.send("12345");
  assert.equal(socket.bufferedAmount, 5);
  transport.held = 7; // the head went out, not the frame
  assert.equal(socket.bufferedAmount, 5);
  transport.held = 3; // 4 of the frame's 7 bytes went out: 3 of the payload remain
  assert.equal(socket.bufferedAmount, 3);
  const big = new Uint8Array(20000);
  socket.send(big);
  assert.equal(socket.bufferedAmount, 20003);
  transport.held = 0;
  session.onDrain();
  assert.equal(socket.bufferedAmount, 0);
});

test("session: a Blob is sent in order with what follows it", async () => {
  const { transport, socket, session } = setup();
  session.open(null);
  socket.send(new Blob(["blob"]));
  socket.send("text");
  assert.equal(socket.bufferedAmount, 8);
  await until(() => transport.frames().length === 2);
  assert.deepEqual(transport.frames().map((f) => [f.opcode, new TextDecoder().decode(f.payload)]), [
    [OP_BINARY, "blob"],
    [OP_TEXT, "text"],
  ]);
  assert.equal(socket.bufferedAmount, 8);
  transport.held = 0;
  assert.equal(socket.bufferedAmount, 0);
});

test("session: sending past backpressureLimit closes with 1008 instead of buffering", () => {
  const { transport, socket, session, log } = setup({ backpressureLimit: 100 });
  session.open(null);
  socket.send(new Uint8Array(60)); // the peer reads nothing: it stays queued
  socket.send(new Uint8Array(60));
  const frames = transport.frames();
  assert.deepEqual(frames.map((f) => f.opcode), [OP_BINARY, OP_CLOSE]);
  assert.equal(closeOf(frames[1].payload).code, CLOSE.policyViolation);
  session.onClose();
  assert.match(log.at(-1)!, /^close 1008 /);
});

test("session: idle: a ping after idleTimeout of silence, then close 1001 when nothing answers", async () => {
  const { transport, session, log } = setup({ idleTimeout: 0.03 });
  session.open(null);
  await new Promise((r) => setTimeout(r, 45));
  assert.deepEqual(transport.frames().map((f) => f.opcode), [OP_PING]);
  await new Promise((r) => setTimeout(r, 40));
  const frames = transport.frames();
  assert.equal(frames.at(-1)!.opcode, OP_CLOSE);
  assert.deepEqual(closeOf(frames.at(-1)!.payload), { code: 1001, reason: "No response from ping frame." });
  session.onClose();
  assert.deepEqual(log, [
    "open",
    "error No response from ping frame.",
    "close 1001 No response from ping frame. false",
  ]);
});

test("session: idle: traffic (a pong) keeps the connection", async () => {
  const { transport, session } = setup({ idleTimeout: 0.03 });
  session.open(null);
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 20));
    session.onData(clientFrame(OP_PONG, ""));
  }
  assert.ok(!transport.frames().some((f) => f.opcode === OP_CLOSE));
  session.destroy();
  session.onClose();
});

test("session: shutdown sends 1001 and waits for the peer", () => {
  const { transport, socket, session, log } = setup();
  session.open(null);
  session.shutdown();
  assert.equal(socket.readyState, 2);
  assert.deepEqual(closeOf(transport.frames()[0].payload).code, 1001);
  session.onData(clientFrame(OP_CLOSE, closePayload(1001)));
  session.onClose();
  assert.deepEqual(log, ["open", "close 1001  true"]);
});

test("session: close() before open is sent right after open", () => {
  const { transport, socket, session, log } = setup();
  socket.close(3000, "early");
  session.open(null);
  assert.deepEqual(closeOf(transport.frames()[0].payload), { code: 3000, reason: "early" });
  assert.deepEqual(log, ["open"]);
});

async function compressed(text: string): Promise<Uint8Array> {
  const d = new MessageDeflater(15, false);
  const out = await d.deflate(new TextEncoder().encode(text));
  d.close();
  return out;
}

test("session: permessage-deflate: compressed messages in and out, in order with plain ones", async () => {
  const deflate = negotiateDeflate("permessage-deflate")!;
  const { transport, socket, session, log } = setup({ deflate });
  assert.equal(socket.extensions, "permessage-deflate");
  session.open(null);
  session.onData(clientFrame(OP_TEXT, await compressed("squeezed"), { rsv1: true }));
  session.onData(clientFrame(OP_TEXT, "plain"));
  await until(() => log.length === 3);
  assert.deepEqual(log, ["open", "message squeezed", "message plain"]);
  socket.send("reply reply reply reply");
  await until(() => transport.frames().length > 0);
  const out = transport.frames()[0];
  assert.ok(out.rsv1);
  const inflater = new MessageInflater(false);
  const back = await inflater.inflate(out.payload, 1000);
  inflater.close();
  assert.equal(new TextDecoder().decode(back as Uint8Array), "reply reply reply reply");
  session.destroy();
  session.onClose();
});

test("session: permessage-deflate: a decompression bomb stops at maxPayload with 1009", async () => {
  const deflate = negotiateDeflate("permessage-deflate")!;
  const { transport, session, log } = setup({ deflate, maxPayload: 64 * 1024 });
  session.open(null);
  const d = new MessageDeflater(15, false);
  const bomb = await d.deflate(new Uint8Array(8 * 1024 * 1024));
  d.close();
  assert.ok(bomb.length < 64 * 1024);
  session.onData(clientFrame(OP_BINARY, bomb, { rsv1: true }));
  await until(() => transport.frames().length > 0);
  assert.equal(closeOf(transport.frames().at(-1)!.payload).code, 1009);
  session.onClose();
  assert.match(log.at(-1)!, /^close 1009 /);
});

test("session: permessage-deflate: invalid UTF-8 after inflation is 1007, corrupt data 1007", async () => {
  const deflate = negotiateDeflate("permessage-deflate")!;
  const a = setup({ deflate });
  a.session.open(null);
  const d = new MessageDeflater(15, false);
  const bad = await d.deflate(new Uint8Array([0x61, 0xff]));
  d.close();
  a.session.onData(clientFrame(OP_TEXT, bad, { rsv1: true }));
  await until(() => a.transport.frames().length > 0);
  assert.equal(closeOf(a.transport.frames().at(-1)!.payload).code, 1007);
  const b = setup({ deflate });
  b.session.open(null);
  b.session.onData(clientFrame(OP_BINARY, new Uint8Array([0xff, 0xff, 0xff, 0xff]), { rsv1: true }));
  await until(() => b.transport.frames().length > 0);
  assert.equal(closeOf(b.transport.frames().at(-1)!.payload).code, 1007);
  a.session.onClose();
  b.session.onClose();
});

test("session: a Close after compressed messages is handled after they are delivered", async () => {
  const deflate = negotiateDeflate("permessage-deflate")!;
  const { transport, session, log } = setup({ deflate });
  session.open(null);
  session.onData(clientFrame(OP_TEXT, await compressed("first"), { rsv1: true }));
  session.onData(clientFrame(OP_CLOSE, closePayload(1000)));
  await until(() => transport.closed);
  session.onClose();
  assert.deepEqual(log, ["open", "message first", "close 1000  true"]);
});

test("session: handlers: on* attributes and addEventListener both fire, in registration order", () => {
  const { socket, session } = setup();
  const order: string[] = [];
  socket.addEventListener("message", () => order.push("listener"));
  socket.onmessage = () => order.push("first handler");
  socket.onmessage = () => order.push("handler");
  session.open(null);
  session.onData(clientFrame(OP_TEXT, "x"));
  assert.deepEqual(order, ["listener", "handler"]);
  assert.equal(ServerWebSocket.OPEN, 1);
  assert.equal(socket.CLOSED, 3);
});

test("session: a listener that throws or rejects is logged and the socket carries on; removeEventListener works", async () => {
  const { socket, session, log, errors } = setup();
  const removed = () => log.push("removed listener ran");
  socket.addEventListener("message", removed);
  socket.removeEventListener("message", removed);
  socket.onmessage = (e) => {
    if (e.data === "throw") throw new Error("handler bug");
    if (e.data === "reject") return Promise.reject(new Error("async bug"));
  };
  session.open(null);
  session.onData(clientFrame(OP_TEXT, "throw"));
  session.onData(clientFrame(OP_TEXT, "reject"));
  session.onData(clientFrame(OP_TEXT, "fine"));
  await until(() => errors.length === 2);
  assert.match(errors[0], /Exception in WebSocket "message" listener[\s\S]*handler bug/);
  assert.match(errors[1], /async bug/);
  assert.deepEqual(log, ["open", "message throw", "message reject", "message fine"]);
  assert.equal(socket.readyState, 1);
});

test("session: the peer's Close while a message is being compressed: the message, then our Close, then the close", async () => {
  const deflate = negotiateDeflate("permessage-deflate")!;
  const { transport, socket, session } = setup({ deflate });
  session.open(null);
  socket.send("x".repeat(10_000));
  session.onData(clientFrame(OP_CLOSE, closePayload(1000)));
  assert.equal(transport.closed, false, "not before our Close is written");
  await until(() => transport.closed);
  assert.deepEqual(transport.frames().map((f) => f.opcode), [OP_TEXT, OP_CLOSE]);
  session.onClose();
});

test("session: a peer that sends Close but never reads is still cut after the close timeout", async () => {
  const { transport, session } = setup({ closeTimeout: 30 });
  session.open(null);
  session.onData(clientFrame(OP_CLOSE, closePayload(1000)));
  assert.ok(transport.closed);
  await until(() => transport.destroyed, 1000);
  session.onClose();
});

test("session: permessage-deflate context takeover is kept by default and dropped when negotiated away", async () => {
  const text = "the same sentence, compressed twice over one connection";
  for (
    const [offer, shared] of [
      ["permessage-deflate", true],
      ["permessage-deflate; server_no_context_takeover", false],
    ] as const
  ) {
    const deflate = negotiateDeflate(offer)!;
    const { transport, socket, session } = setup({ deflate });
    session.open(null);
    socket.send(text);
    socket.send(text);
    await until(() => transport.frames().length === 2);
    const [a, b] = transport.frames();
    // With the window kept, the second copy is a back-reference into the first: shorter.
    if (shared) {
      assert.ok(b.payload.length < a.payload.length, `${offer}: ${a.payload.length} then ${b.payload.length}`);
    } else assert.deepEqual(b.payload, a.payload, offer);
    // A client inflating with one context (what it must do unless it also reset) reads both.
    const inflater = new MessageInflater(false);
    for (const f of [a, b]) {
      assert.equal(new TextDecoder().decode((await inflater.inflate(f.payload, 1000)) as Uint8Array), text);
    }
    inflater.close();
    session.destroy();
    session.onClose();
  }
});

test("session: permessage-deflate: the client's context is kept across messages it compresses with takeover", async () => {
  const deflate = negotiateDeflate("permessage-deflate")!;
  const { session, log } = setup({ deflate });
  session.open(null);
  const d = new MessageDeflater(15, false);
  const m = new TextEncoder().encode("repeat repeat repeat");
  const first = await d.deflate(m);
  const second = await d.deflate(m); // refers back into the first message's window
  d.close();
  session.onData(clientFrame(OP_TEXT, first, { rsv1: true }));
  session.onData(clientFrame(OP_TEXT, second, { rsv1: true }));
  await until(() => log.length === 3);
  assert.deepEqual(log, ["open", "message repeat repeat repeat", "message repeat repeat repeat"]);
  session.destroy();
  session.onClose();
});

test("session: compressed messages dropped after a failure leave no unhandled rejection behind", async () => {
  const deflate = negotiateDeflate("permessage-deflate")!;
  const { transport, session } = setup({ deflate, maxPayload: 1000 });
  session.open(null);
  const d = new MessageDeflater(15, false);
  const bomb = await d.deflate(new Uint8Array(100_000));
  d.close();
  const corrupt = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
  // The first fails (1009); the corrupt ones behind it reject while already dropped.
  session.onData(
    new Uint8Array([
      ...clientFrame(OP_BINARY, bomb, { rsv1: true }),
      ...clientFrame(OP_BINARY, corrupt, { rsv1: true }),
      ...clientFrame(OP_BINARY, corrupt, { rsv1: true }),
    ]),
  );
  await until(() => transport.frames().some((f) => f.opcode === OP_CLOSE));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closeOf(transport.frames().at(-1)!.payload).code, 1009);
  session.onClose();
});

test("session: an inflated binary message arrives as exactly its bytes (zlib's output is a view into a shared pool)", async () => {
  const deflate = negotiateDeflate("permessage-deflate")!;
  const { socket, session } = setup({ deflate });
  socket.binaryType = "arraybuffer";
  const got: ArrayBuffer[] = [];
  socket.addEventListener("message", (e) => got.push((e as MessageEvent).data));
  session.open(null);
  const payload = new Uint8Array(256).map((_, i) => (i * 31 + 1) & 0xff);
  const d = new MessageDeflater(15, false);
  const compressedPayload = await d.deflate(payload);
  d.close();
  session.onData(clientFrame(OP_BINARY, compressedPayload, { rsv1: true }));
  await until(() => got.length === 1);
  assert.equal(got[0].byteLength, 256);
  assert.deepEqual(new Uint8Array(got[0]), payload);
  session.destroy();
  session.onClose();
});
