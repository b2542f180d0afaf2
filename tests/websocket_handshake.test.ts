// The opening handshake (RFC 6455 4.2), permessage-deflate negotiation
// (RFC 7692 7) and upgradeWebSocket's checks, at unit level.
import { test } from "node:test";
import assert from "node:assert/strict";
import { acceptKey, checkHandshake, parseProtocols, WebSocketHandshakeError } from "../lib/websocket/handshake.ts";
import { negotiateDeflate, parseExtensions } from "../lib/websocket/extensions.ts";
import {
  offerUpgrade,
  takeUpgrade,
  upgradeHeaderLines,
  UpgradeResponse,
  upgradeWebSocket,
} from "../lib/websocket/upgrade.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

function headers(extra: Record<string, string> = {}, drop: string[] = []): Headers {
  const h = new Headers({
    host: "example.com",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": KEY,
    "sec-websocket-version": "13",
    ...extra,
  });
  for (const d of drop) h.delete(d);
  return h;
}

function refusal(fn: () => unknown): WebSocketHandshakeError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof WebSocketHandshakeError, `expected a WebSocketHandshakeError, got ${error}`);
    assert.ok(error instanceof TypeError);
    return error;
  }
  assert.fail("expected the handshake to be refused");
}

test("handshake: the RFC 6455 sample key's accept value", () => {
  assert.equal(acceptKey(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

test("handshake: a valid request, tokens case-insensitive and in lists", () => {
  const offer = checkHandshake(
    "GET",
    "1.1",
    headers({ upgrade: "WebSocket", connection: "keep-alive, Upgrade", "sec-websocket-protocol": "chat, superchat" }),
  );
  assert.equal(offer.key, KEY);
  assert.deepEqual(offer.protocols, ["chat", "superchat"]);
});

test("handshake: each missing or wrong field is refused with 400, the version with 426", () => {
  assert.equal(refusal(() => checkHandshake("POST", "1.1", headers())).status, 400);
  assert.equal(refusal(() => checkHandshake("GET", "1.0", headers())).status, 400);
  assert.equal(refusal(() => checkHandshake("GET", "1.1", headers({}, ["upgrade"]))).status, 400);
  assert.equal(refusal(() => checkHandshake("GET", "1.1", headers({ upgrade: "h2c" }))).status, 400);
  assert.equal(refusal(() => checkHandshake("GET", "1.1", headers({}, ["connection"]))).status, 400);
  assert.equal(refusal(() => checkHandshake("GET", "1.1", headers({ connection: "keep-alive" }))).status, 400);
  assert.equal(refusal(() => checkHandshake("GET", "1.1", headers({}, ["sec-websocket-key"]))).status, 400);
  for (
    const key of ["", "abc", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBsZSBub25jZQ==" + "x"]
  ) {
    assert.equal(refusal(() => checkHandshake("GET", "1.1", headers({ "sec-websocket-key": key }))).status, 400, key);
  }
  assert.equal(refusal(() => checkHandshake("GET", "1.1", headers({}, ["sec-websocket-version"]))).status, 426);
  assert.equal(refusal(() => checkHandshake("GET", "1.1", headers({ "sec-websocket-version": "8" }))).status, 426);
});

test("handshake: repeated Sec-WebSocket-Key or -Version fields are refused, never undefined (CVE-2024-37890 class)", () => {
  const h = headers();
  h.append("sec-websocket-key", KEY);
  assert.equal(refusal(() => checkHandshake("GET", "1.1", h)).status, 400);
  const v = headers();
  v.append("sec-websocket-version", "13");
  assert.equal(refusal(() => checkHandshake("GET", "1.1", v)).status, 426);
  // Many unrelated headers do not push the key out of reach.
  const many = headers();
  for (let i = 0; i < 2000; i++) many.append(`x-${i}`, "y");
  assert.equal(checkHandshake("GET", "1.1", many).key, KEY);
});

test("handshake: subprotocol lists drop empty and non-token entries", () => {
  assert.deepEqual(parseProtocols("a, ,b c, d"), ["a", "d"]);
  assert.deepEqual(parseProtocols(null), []);
});

test("extensions: parsing and permessage-deflate negotiation", () => {
  assert.deepEqual(parseExtensions('foo; a=1; b="x y", permessage-deflate'), [
    { name: "permessage-deflate", params: [] },
  ]);
  assert.equal(negotiateDeflate("permessage-deflate; client_max_window_bits")?.response, "permessage-deflate");
  const all = negotiateDeflate(
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10",
  );
  assert.deepEqual(all, {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: 10,
    response: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10",
  });
  // Declined offers: duplicates, unknown parameters, bad values, a window zlib cannot honour; the next offer is taken.
  assert.equal(negotiateDeflate("permessage-deflate; server_no_context_takeover; server_no_context_takeover"), null);
  assert.equal(negotiateDeflate("permessage-deflate; foo"), null);
  assert.equal(negotiateDeflate("permessage-deflate; server_max_window_bits=16"), null);
  assert.equal(negotiateDeflate("permessage-deflate; server_max_window_bits"), null);
  assert.equal(negotiateDeflate("permessage-deflate; server_max_window_bits=8"), null);
  assert.equal(negotiateDeflate("permessage-deflate; client_no_context_takeover=1"), null);
  assert.equal(
    negotiateDeflate('permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits="12"')
      ?.serverMaxWindowBits,
    12,
  );
  assert.equal(negotiateDeflate("x-webkit-deflate-frame"), null);
  assert.equal(negotiateDeflate(null), null);
});

/** A request as our engine would hand it over (offerUpgrade marks it). */
function engineRequest(h: Headers = headers(), method = "GET", version = "1.1"): Request {
  const request = new Request("http://example.com/chat?room=1", { method, headers: h });
  offerUpgrade(request, version);
  return request;
}

test("upgradeWebSocket: returns a CONNECTING socket and a 101 response with the handshake headers", () => {
  const request = engineRequest(headers({ "sec-websocket-protocol": "chat, v2" }));
  const { socket, response } = upgradeWebSocket(request, { protocol: "v2" });
  assert.equal(socket.readyState, 0);
  assert.equal(socket.url, "ws://example.com/chat?room=1");
  assert.equal(socket.protocol, "v2");
  assert.equal(response.status, 200, "Node cannot build a 101 Response: the engine writes the 101");
  assert.ok(response instanceof UpgradeResponse);
  assert.equal(response.headers.get("sec-websocket-accept"), acceptKey(KEY));
  assert.equal(response.headers.get("sec-websocket-protocol"), "v2");
  assert.throws(() => socket.send("x"), { name: "InvalidStateError" });
});

test("upgradeWebSocket: a protocol the client did not offer is the app's error (TypeError, not a handshake error)", () => {
  const request = engineRequest(headers({ "sec-websocket-protocol": "chat" }));
  assert.throws(
    () => upgradeWebSocket(request, { protocol: "other" }),
    (e: unknown) => e instanceof TypeError && !(e instanceof WebSocketHandshakeError) && /not offered/.test(String(e)),
  );
});

test("upgradeWebSocket: a clone or a wrapped request says so; a request without Upgrade is a handshake error", () => {
  const request = engineRequest();
  for (const other of [request.clone(), new Request(request)]) {
    assert.throws(
      () => upgradeWebSocket(other),
      (e: unknown) => e instanceof TypeError && !(e instanceof WebSocketHandshakeError) && /clone/.test(String(e)),
    );
  }
  const plain = new Request("http://example.com/");
  assert.equal(refusal(() => upgradeWebSocket(plain)).status, 400);
  assert.equal(refusal(() => upgradeWebSocket(engineRequest(headers(), "GET", "1.0"))).status, 400);
  assert.equal(refusal(() => upgradeWebSocket(engineRequest(headers({ "sec-websocket-version": "7" })))).status, 426);
});

test("upgradeWebSocket: twice on one request throws; options are checked", () => {
  const request = engineRequest();
  upgradeWebSocket(request);
  assert.throws(() => upgradeWebSocket(request), /already/);
  assert.throws(() => upgradeWebSocket(engineRequest(), { maxPayload: -1 }), /maxPayload/);
});

test("takeUpgrade: the returned upgrade response carries it out; any other response abandons the socket", () => {
  const request = engineRequest();
  const { response } = upgradeWebSocket(request);
  assert.equal(takeUpgrade(request, response)?.response, response);
  // Rebuilt by a middleware (new Response(body, response)): recognised by its accept key.
  const rebuiltFor = engineRequest();
  const first = upgradeWebSocket(rebuiltFor);
  assert.equal(takeUpgrade(rebuiltFor, new Response(null, first.response))?.socket, first.socket);

  const other = engineRequest();
  const { socket } = upgradeWebSocket(other);
  const seen: string[] = [];
  socket.onerror = () => seen.push("error");
  socket.onclose = (e) => seen.push(`close ${e.code} ${e.wasClean}`);
  assert.equal(takeUpgrade(other, new Response("no")), null);
  assert.deepEqual(seen, ["error", "close 1006 false"]);
  assert.equal(socket.readyState, 3);
  assert.equal(takeUpgrade(engineRequest(), new Response("plain")), null);
});

test("the 101's headers: the app's own, minus hop-by-hop ones, then exactly the agreed protocol and extensions", () => {
  const request = engineRequest(
    headers({ "sec-websocket-protocol": "a, b", "sec-websocket-extensions": "permessage-deflate" }),
  );
  const { response } = upgradeWebSocket(request, { compression: true });
  response.headers.set("x-app", "1");
  response.headers.set("transfer-encoding", "chunked");
  response.headers.append("set-cookie", "a=1");
  response.headers.append("set-cookie", "b=2");
  const pending = takeUpgrade(request, response)!;
  const lines = upgradeHeaderLines(pending, response);
  assert.match(lines, /^x-app: 1\r\n/m);
  assert.match(lines, /^set-cookie: a=1\r\nset-cookie: b=2\r\n/m);
  assert.doesNotMatch(lines, /transfer-encoding|sec-websocket-protocol/);
  assert.match(lines, /sec-websocket-extensions: permessage-deflate\r\n/);
  assert.equal(lines.match(/^upgrade:/gm)?.length, 1);
  assert.equal(lines.match(/^connection:/gm)?.length, 1);
});
