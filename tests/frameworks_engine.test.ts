// What serving real frameworks found in the engine (tests/frameworks.test.ts),
// pinned at the level of single responses: HEAD without a body, strings in a
// body stream, a Response whose headers complete only once its body is asked
// for (srvx's NodeResponse, h3 on Node), and Bun's hidden implied Content-Type.
import { test } from "node:test";
import assert from "node:assert/strict";
import { exchange, RawClient } from "./support/raw_client.ts";
import { startServer } from "./support/server.ts";

const IMPLIED_TYPE_HIDDEN = new Response("").headers.get("content-type") === null;

function streamOf(chunks: unknown[]): ReadableStream {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

test("frameworks engine: a HEAD answer without a body sends no Content-Length and no other framing", async () => {
  const s = await startServer((req) => {
    const p = new URL(req.url).pathname;
    if (p === "/null") return new Response(null, { headers: { "content-type": "application/json" } });
    if (p === "/empty-stream") return new Response(streamOf([]));
    if (p === "/declared") return new Response(null, { headers: { "content-length": "0" } });
    return new Response("twelve bytes");
  });
  try {
    const c = await RawClient.open(s.port);
    for (const path of ["/null", "/empty-stream"]) {
      c.received = new Uint8Array(0);
      c.send(`HEAD ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const [h] = await c.responses(1, 5000, true);
      assert.equal(h.status, 200);
      assert.equal(h.headers.get("content-length"), undefined, `${path}: no length GET would not have`);
      assert.equal(h.headers.get("transfer-encoding"), undefined, path);
      assert.equal(h.headers.get("connection"), undefined, `${path}: the connection stays`);
    }
    // The connection is still in step: the next answer parses, its length is GET's.
    c.received = new Uint8Array(0);
    c.send("HEAD /body HTTP/1.1\r\nHost: x\r\n\r\n");
    const [body] = await c.responses(1, 5000, true);
    assert.equal(body.headers.get("content-length")?.[0], "12");
    c.destroy();
    // A length the app declares is the app's word, 0 included.
    const [declared] = await exchange(s.port, "HEAD /declared HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(declared.headers.get("content-length")?.[0], "0");
    // HTTP/1.0 keep-alive: no length to send, and no reason to close either.
    const d = await RawClient.open(s.port);
    d.send("HEAD /null HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const [old] = await d.responses(1, 5000, true);
    assert.equal(old.headers.get("content-length"), undefined);
    assert.equal(old.headers.get("connection")?.[0], "Keep-Alive");
    d.destroy();
  } finally {
    await s.stop();
  }
});

test("frameworks engine: strings in a body stream go out as UTF-8; other non-bytes still fail", async () => {
  const s = await startServer((req) =>
    req.url.endsWith("/text")
      ? new Response(streamOf(["héllo", new TextEncoder().encode(" "), "wörld ✓"]))
      : new Response(streamOf([42]))
  );
  try {
    const [r] = await exchange(s.port, "GET /text HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(r.status, 200);
    assert.equal(r.text, "héllo wörld ✓");
    const [bad] = await exchange(s.port, "GET /number HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(bad.status, 500);
    assert.ok(s.logs.some((l) => l.includes("must be bytes (Uint8Array) or text, got a number")), s.logs.join("\n"));
  } finally {
    await s.stop();
  }
});

/** A Response whose headers gain the implied Content-Type only once the body was asked for (srvx's NodeResponse). */
class LazyHeadersResponse extends Response {
  #touched = false;
  #before = new Headers({ "x-lazy": "1" });
  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    this.#touched = true;
    return super.body;
  }
  override get headers(): Headers {
    return this.#touched ? super.headers : this.#before;
  }
}

test("frameworks engine: the body is asked for before the headers (h3 on Node: srvx's NodeResponse)", async () => {
  const s = await startServer(() => {
    const r = new LazyHeadersResponse("lazy", { headers: { "x-lazy": "1", "content-type": "text/x-lazy" } });
    return r;
  });
  try {
    const [r] = await exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(r.text, "lazy");
    assert.equal(r.headers.get("content-type")?.[0], "text/x-lazy");
  } finally {
    await s.stop();
  }
});

test("frameworks engine: a string body without a Content-Type gets the type its runtime gives it (Bun's too)", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const s = await startServer((req) => {
    const p = new URL(req.url).pathname;
    if (p === "/string") return new Response("hi");
    if (p === "/empty") return new Response("");
    if (p === "/typed") return new Response("hi", { headers: { "content-type": "text/html" } });
    // Still streaming when the head goes out: nothing to say about its type.
    return new Response(
      new ReadableStream({
        async start(c) {
          c.enqueue(new TextEncoder().encode("data: 1\n\n"));
          await gate;
          c.close();
        },
      }),
    );
  });
  try {
    const get = async (path: string) =>
      (await exchange(s.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))[0];
    const implied = IMPLIED_TYPE_HIDDEN ? "text/plain;charset=utf-8" : "text/plain;charset=UTF-8";
    assert.equal((await get("/string")).headers.get("content-type")?.[0], implied);
    assert.equal((await get("/typed")).headers.get("content-type")?.[0], "text/html");
    const empty = await get("/empty");
    if (IMPLIED_TYPE_HIDDEN) assert.equal(empty.headers.get("content-type"), undefined, "as Bun.serve: none");
    const c = await RawClient.open(s.port);
    c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.waitFor(() => c.text().includes("data: 1"), 5000, "first event");
    assert.doesNotMatch(c.text(), /Content-Type/i);
    release();
    c.destroy();
  } finally {
    release();
    await s.stop();
  }
});
