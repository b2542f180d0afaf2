// End-to-end behaviour of serve() over real sockets on 127.0.0.1: framing,
// keep-alive, pipelining, limits, errors, back-pressure, shutdown.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exchange, RawClient, roundTrip } from "./support/raw_client.ts";
import { startServer } from "./support/server.ts";
import { sleep, withTimeout } from "./support/time.ts";
import { openTempFileCount } from "../lib/buffers.ts";
import type { ServeInfo, ServeInit } from "../mod.ts";

const hello = () => new Response("Hello World", { headers: { "content-type": "text/plain" } });

test("http: a simple GET gets a complete, waitress-shaped response", async () => {
  const s = await startServer(hello);
  try {
    const [r] = await exchange(s.port, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert.equal(r.version, "1.1");
    assert.equal(r.status, 200);
    assert.equal(r.reason, "OK");
    assert.equal(r.text, "Hello World");
    assert.equal(r.framing, "length");
    assert.deepEqual(r.rawHeaders.map(([n]) => n), ["Content-Length", "Content-Type", "Date", "Server"]);
    assert.equal(r.headers.get("server")?.[0], "waitress");
    assert.match(r.headers.get("date")?.[0] ?? "", /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  } finally {
    await s.stop();
  }
});

test("http: keep-alive serves several requests on one connection", async () => {
  let n = 0;
  const s = await startServer(() => new Response(`n=${++n}`));
  const c = await RawClient.open(s.port);
  try {
    c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.responses(1);
    c.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    const rs = await c.responses(2);
    assert.deepEqual(rs.map((r) => r.text), ["n=1", "n=2"]);
    assert.equal(c.ended, false);
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("http: pipelined requests are answered strictly in order", async () => {
  const s = await startServer(async (req) => {
    const path = new URL(req.url).pathname;
    // Later requests finish faster: order must still follow arrival.
    await sleep(path === "/1" ? 30 : 1);
    return new Response(path);
  }, { threads: 4 });
  try {
    const reqs = [1, 2, 3, 4, 5].map((i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join("");
    const rs = await exchange(s.port, reqs, 5);
    assert.deepEqual(rs.map((r) => r.text), ["/1", "/2", "/3", "/4", "/5"]);
  } finally {
    await s.stop();
  }
});

test("http: a chunked request body is de-chunked for the app; trailers are dropped", async () => {
  const s = await startServer(async (req) =>
    new Response(`${req.headers.get("transfer-encoding") ?? req.headers.get("content-length")}|${await req.text()}`)
  );
  try {
    const [r] = await exchange(
      s.port,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
    );
    assert.equal(r.status, 200);
    // As waitress does: the app sees the decoded length and no Transfer-Encoding.
    assert.equal(r.text, "11|hello world");
  } finally {
    await s.stop();
  }
});

test("http: a streamed response of unknown length is chunked and keeps the connection", async () => {
  const s = await startServer(() => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await sleep(5);
        if (i++ < 3) controller.enqueue(new TextEncoder().encode(`part${i};`));
        else controller.close();
      },
    });
    return new Response(body);
  });
  const c = await RawClient.open(s.port);
  try {
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const rs = await c.responses(2);
    for (const r of rs) {
      assert.equal(r.framing, "chunked");
      assert.equal(r.text, "part1;part2;part3;");
      assert.equal(r.headers.get("connection"), undefined);
    }
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("http: Expect: 100-continue gets an interim 100, then the final response", async () => {
  const s = await startServer(async (req) => new Response(await req.text()));
  const c = await RawClient.open(s.port);
  try {
    c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    await c.waitFor(() => c.text().includes("100 Continue"), 3000, "100 Continue");
    assert.equal(c.text(), "HTTP/1.1 100 Continue\r\n\r\n");
    c.send("hello");
    const rs = await c.responses(2);
    assert.equal(rs[0].status, 100);
    assert.equal(rs[1].status, 200);
    assert.equal(rs[1].text, "hello");
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("http: Expect: 100-continue without a body still gets its final response (waitress hangs here)", async () => {
  const s = await startServer(hello);
  try {
    const rs = await exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n");
    assert.equal(rs[0].status, 200);
  } finally {
    await s.stop();
  }
});

test("http: HTTP/1.0 keeps alive only when asked and the length is known", async () => {
  const s = await startServer((req) =>
    new URL(req.url).pathname === "/stream"
      ? new Response(
        new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array([65])), setTimeout(() => c.close(), 20)) }),
      )
      : hello()
  );
  try {
    const c = await RawClient.open(s.port);
    c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const [r1] = await c.responses(1);
    assert.equal(r1.version, "1.0");
    assert.equal(r1.headers.get("connection")?.[0], "Keep-Alive");
    c.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    await c.waitClosed();
    const rs = await c.responses(2);
    assert.equal(rs[1].framing, "close");
    assert.equal(rs[1].text, "A");
    assert.equal(rs[1].headers.get("connection")?.[0], "close");
    c.destroy();
    const c2 = await RawClient.open(s.port);
    c2.send("GET / HTTP/1.0\r\n\r\n");
    await c2.waitClosed();
    const [r3] = await c2.responses(1);
    assert.equal(r3.headers.get("connection")?.[0], "close");
    c2.destroy();
  } finally {
    await s.stop();
  }
});

test("http: HEAD, 204 and 304 carry no body", async () => {
  const s = await startServer((req) => {
    const p = new URL(req.url).pathname;
    if (p === "/204") return new Response(null, { status: 204 });
    if (p === "/304") return new Response(null, { status: 304 });
    return new Response("twelve bytes");
  });
  const c = await RawClient.open(s.port);
  try {
    c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    const [h] = await c.responses(1, 5000, true);
    assert.equal(h.headers.get("content-length")?.[0], "12");
    c.send("GET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.waitFor(() => c.text().endsWith("twelve bytes"), 5000, "third response");
    const text = c.text();
    assert.equal(text.split("HTTP/1.1 ").length - 1, 4);
    assert.ok(!text.includes("Content-Length: 0\r\n\r\nHTTP/1.1 304"), "204 has no Content-Length");
    assert.equal(c.ended, false);
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("http: the header limit accepts exactly max bytes and answers 431 above it", async () => {
  const base = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: \r\n\r\n";
  const max = 200;
  const s = await startServer(hello, { maxRequestHeaderSize: max });
  try {
    const exact = base.replace("X-Pad: ", "X-Pad: " + "a".repeat(max - base.length));
    assert.equal(exact.length, max);
    assert.equal((await exchange(s.port, exact))[0].status, 200);
    const over = base.replace("X-Pad: ", "X-Pad: " + "a".repeat(max - base.length + 1));
    const c = await RawClient.open(s.port);
    c.send(over);
    await c.waitClosed();
    const [r] = await c.responses(1);
    assert.equal(r.status, 431);
    assert.equal(r.headers.get("connection")?.[0], "close");
    assert.match(
      r.text,
      /^Request Header Fields Too Large\r\n\r\nexceeds max_header of 200\r\n\r\n\(generated by waitress\)$/,
    );
    c.destroy();
  } finally {
    await s.stop();
  }
});

test("http: the body limit accepts exactly max bytes and answers 413 above it", async () => {
  const s = await startServer(async (req) => new Response(String((await req.bytes()).length)), {
    maxRequestBodySize: 10,
  });
  try {
    const ok = await exchange(s.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
    assert.equal(ok[0].text, "10");
    const [r] = await exchange(s.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n0123456789a");
    assert.equal(r.status, 413);
    const [c] = await exchange(
      s.port,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n",
    );
    assert.equal(c.status, 413);
  } finally {
    await s.stop();
  }
});

test("http: smuggling attempts are refused and the connection closed", async () => {
  let calls = 0;
  const s = await startServer(() => (calls++, hello()));
  const cases: Array<[string, number]> = [
    // CVE-2019-16785: bare LF hides a second Content-Length.
    ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nX-Header: x\nContent-Length: 0\r\n\r\n", 400],
    // CVE-2019-16786: a coding other than chunked.
    ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501],
    // CVE-2019-16789: odd whitespace around chunked.
    ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", 400],
    // CVE-2019-16792: two Content-Lengths.
    [
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 45\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
      400,
    ],
    // CVE-2022-24761: signed lengths, hex-prefixed chunk sizes, bad extensions.
    ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +10\r\n\r\n0123456789", 400],
    ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n", 400],
    // Content-Length with Transfer-Encoding (RFC 9112 6.1).
    [
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
      400,
    ],
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\n\r\n", 400],
    ["GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505],
    ["GET / HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n  b\r\n\r\n", 400],
  ];
  try {
    for (const [bytes, status] of cases) {
      const c = await RawClient.open(s.port);
      c.send(bytes);
      await c.waitClosed();
      const rs = await c.responses(1);
      assert.equal(rs[0].status, status, JSON.stringify(bytes));
      assert.equal(rs[0].headers.get("connection")?.[0], "close");
      assert.equal(c.text().split("HTTP/1.").length - 1, 1, "exactly one response");
      c.destroy();
    }
    assert.equal(calls, 0, "the app never saw a smuggled request");
    assert.equal((await exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))[0].status, 200);
  } finally {
    await s.stop();
  }
});

test("http: CVE-2024-49768: nothing after an invalid pipelined request runs", async () => {
  let calls = 0;
  const s = await startServer(() => (calls++, hello()), { channelRequestLookahead: 5, recvBytes: 60 });
  try {
    for (let i = 0; i < 10; i++) {
      const c = await RawClient.open(s.port);
      c.send(
        "GET / HTTP/1.1\r\nHost: localhost:8080\r\nContent-length: -1\r\n\r\n" +
          "POST / HTTP/1.1\r\nHost: localhost:8080\r\nContent-Length: 1\r\n\r\nx",
      );
      await c.waitClosed();
      assert.equal((await c.responses(1))[0].status, 400);
      c.destroy();
    }
    assert.equal(calls, 0);
  } finally {
    await s.stop();
  }
});

test("http: a handler that throws gets a 500 and the server keeps serving", async () => {
  const s = await startServer((req) => {
    if (req.url.endsWith("/boom")) throw new Error("kaboom");
    if (req.url.endsWith("/reject")) return Promise.reject(new Error("nope"));
    if (req.url.endsWith("/bad")) return "not a response" as unknown as Response;
    if (req.url.endsWith("/network-error")) return Response.error();
    if (req.url.endsWith("/split")) {
      // Bun's Response takes any status text; the engine must not let CR LF into the status line.
      const r = new Response("x");
      Object.defineProperty(r, "statusText", { value: "OK\r\nX-Injected: 1" });
      return r;
    }
    return hello();
  });
  try {
    for (const path of ["/boom", "/reject", "/bad", "/network-error", "/split"]) {
      const [r] = await exchange(s.port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(r.status, 500);
      assert.equal(r.headers.get("connection")?.[0], "close");
      assert.match(r.text, /^Internal Server Error\r\n\r\nThe server encountered an unexpected internal server error/);
      assert.ok(!r.text.includes("kaboom"));
      assert.equal(r.headers.get("x-injected"), undefined);
    }
    assert.ok(s.logs.some((l) => l.startsWith("ERROR Exception while serving /boom") && l.includes("kaboom")));
    assert.ok(
      s.logs.some((l) => l.startsWith("ERROR Exception while serving /network-error") && l.includes("status 0")),
    );
    assert.equal((await exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))[0].status, 200);
  } finally {
    await s.stop();
  }
  const t = await startServer(() => {
    throw new Error("visible");
  }, { exposeTracebacks: true });
  try {
    const [r] = await exchange(t.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.match(r.text, /Error: visible/);
  } finally {
    await t.stop();
  }
});

test("http: the app's Content-Length is honoured: long bodies truncated, short ones close", async () => {
  const s = await startServer((req) =>
    req.url.endsWith("/long")
      ? new Response("0123456789", { headers: { "content-length": "4" } })
      : req.url.endsWith("/none")
      ? new Response(null, { headers: { "content-length": "10" } })
      : new Response("abc", { headers: { "content-length": "10" } })
  );
  try {
    const c = await RawClient.open(s.port);
    c.send("GET /long HTTP/1.1\r\nHost: x\r\n\r\n");
    const [r] = await c.responses(1);
    assert.equal(r.text, "0123");
    c.send("GET /short HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.waitClosed();
    assert.ok(c.text().endsWith("abc"));
    c.destroy();
    // A declared length and no body at all: the client must not wait for ten bytes either.
    const d = await RawClient.open(s.port);
    d.send("GET /none HTTP/1.1\r\nHost: x\r\n\r\n");
    await d.waitClosed(3000);
    assert.match(d.text(), /^HTTP\/1\.1 200 OK\r\n[^]*Content-Length: 10\r\n[^]*\r\n\r\n$/);
    d.destroy();
    // HEAD: the same head, no body, and the connection stays.
    const e = await RawClient.open(s.port);
    e.send("HEAD /none HTTP/1.1\r\nHost: x\r\n\r\n");
    const [h] = await e.responses(1, 3000, true);
    assert.equal(h.headers.get("content-length")?.[0], "10");
    assert.equal(h.headers.get("connection"), undefined);
    e.destroy();
    assert.ok(s.logs.some((l) => l.includes("Application returned 0 of 10 declared bytes for /none")));
  } finally {
    await s.stop();
  }
});

test("http: Set-Cookie stays separate; ident rules for Server and Via", async () => {
  const s = await startServer((req) => {
    const h = new Headers();
    h.append("set-cookie", "a=1");
    h.append("set-cookie", "b=2");
    if (req.url.endsWith("/own")) h.set("server", "mine");
    return new Response("x", { headers: h });
  });
  try {
    const [r] = await exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.deepEqual(r.headers.get("set-cookie"), ["a=1", "b=2"]);
    const [o] = await exchange(s.port, "GET /own HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.deepEqual(o.headers.get("server"), ["mine"]);
    assert.deepEqual(o.headers.get("via"), ["waitress"]);
  } finally {
    await s.stop();
  }
  const t = await startServer(hello, { ident: "" });
  try {
    const [r] = await exchange(t.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(r.headers.get("server"), undefined);
  } finally {
    await t.stop();
  }
});

test("http: url, urlPrefix split and the body of a GET reach the app", async () => {
  const seen: Array<[string, string, string]> = [];
  const s = await startServer(async (req, info) => {
    seen.push([req.url, info.urlPrefix, await req.text()]);
    return new Response("ok");
  }, { urlPrefix: "app/" });
  try {
    await exchange(s.port, "GET /app/x?y=1 HTTP/1.1\r\nHost: example.com:81\r\nContent-Length: 4\r\n\r\nbody");
    await exchange(s.port, "GET /app HTTP/1.1\r\nHost: h\r\n\r\n");
    await exchange(s.port, "GET /application HTTP/1.1\r\nHost: h\r\n\r\n");
    await exchange(s.port, "GET http://other.example/app/z HTTP/1.1\r\nHost: h\r\n\r\n");
    // RFC 9112 3.3: an empty Host gives way to the server's name, as an absent one does on HTTP/1.0.
    await exchange(s.port, "GET /app/e HTTP/1.1\r\nHost:\r\n\r\n");
    await exchange(s.port, "GET /app/n HTTP/1.0\r\n\r\n");
    // A URL cannot say "no path": the asterisk-form reads "/*", as on Deno.serve.
    await exchange(s.port, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    assert.deepEqual(seen, [
      ["http://example.com:81/x?y=1", "/app", "body"],
      ["http://h/", "/app", ""],
      ["http://h/application", "/app", ""],
      ["http://other.example/z", "/app", ""],
      ["http://waitress.invalid/e", "/app", ""],
      ["http://waitress.invalid/n", "/app", ""],
      ["http://h/*", "/app", ""],
    ]);
  } finally {
    await s.stop();
  }
});

test("http: threads bounds how many requests the app processes at once", async () => {
  let active = 0;
  let peak = 0;
  const s = await startServer(async () => {
    peak = Math.max(peak, ++active);
    await sleep(30);
    active--;
    return hello();
  }, { threads: 2 });
  try {
    await Promise.all(Array.from({ length: 6 }, () => exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
    assert.equal(peak, 2);
  } finally {
    await s.stop();
  }
});

test("http: bodies above inbufOverflow go to a temporary file that is gone afterwards", async () => {
  const size = 300_000;
  const s = await startServer(async (req) => {
    const bytes = await req.bytes();
    let sum = 0;
    for (const b of bytes) sum += b;
    return new Response(`${bytes.length}:${sum}`);
  }, { inbufOverflow: 1000 });
  try {
    const body = new Uint8Array(size).map((_, i) => i % 251);
    let sum = 0;
    for (const b of body) sum += b;
    const head = new TextEncoder().encode(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
    const msg = new Uint8Array(head.length + size);
    msg.set(head);
    msg.set(body, head.length);
    const [r] = await exchange(s.port, msg);
    assert.equal(r.text, `${size}:${sum}`);
    assert.equal(openTempFileCount(), 0);
  } finally {
    await s.stop();
  }
});

test("http: a slow reader holds the app's stream near outbufHighWatermark", async () => {
  let produced = 0;
  const chunk = new Uint8Array(64 * 1024);
  const s = await startServer(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          produced += chunk.length;
          controller.enqueue(chunk.slice());
        },
      }, { highWaterMark: 0 }),
    ), { outbufHighWatermark: 1024 * 1024, outbufOverflow: 256 * 1024 });
  const c = await RawClient.open(s.port);
  try {
    c.socket.pause();
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await sleep(700);
    const plateau = produced;
    await sleep(300);
    // Kernel socket buffers absorb a few MiB at most; an unbounded pull would be far beyond.
    assert.ok(produced < 24 * 1024 * 1024, `produced ${produced} bytes for a reader that reads nothing`);
    assert.equal(produced, plateau, "the stream is not pulled while the reader is stalled");
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("http: a client leaving mid-response aborts request.signal and rejects info.completed", async () => {
  let signal: AbortSignal | null = null;
  let info: ServeInfo | null = null;
  const s = await startServer((req, i) => {
    signal = req.signal;
    info = i;
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          await sleep(5);
          controller.enqueue(new Uint8Array(64 * 1024));
        },
      }),
    );
  });
  try {
    const c = await RawClient.open(s.port);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.waitFor(() => c.received.length > 100_000, 5000, "some body");
    c.destroy();
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => (signal?.aborted ? resolve() : setTimeout(check, 10));
        check();
      }),
      5000,
      "abort",
    );
    await assert.rejects((info as unknown as ServeInfo).completed);
    // waitress logs it (logSocketErrors is on by default).
    assert.ok(s.logs.includes("INFO Client disconnected while serving /"), JSON.stringify(s.logs));
  } finally {
    await s.stop();
  }
});

test("http: with logSocketErrors off, a client leaving is not logged", async () => {
  const s = await startServer(
    () =>
      new Response(
        new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(new Uint8Array(65536)) }, { highWaterMark: 0 }),
      ),
    {
      logSocketErrors: false,
    },
  );
  try {
    const c = await RawClient.open(s.port);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.waitFor(() => c.received.length > 100_000, 5000, "some body");
    c.destroy();
    const deadline = Date.now() + 3000;
    while (s.server.stats().connections > 0 && Date.now() < deadline) await sleep(20);
    assert.equal(s.server.stats().connections, 0);
    assert.deepEqual(s.logs, []);
  } finally {
    await s.stop();
  }
});

test("http: request.signal never aborts after a successful response; completed resolves", async () => {
  let signal: AbortSignal | null = null;
  let completed: Promise<void> | null = null;
  const s = await startServer((req, info) => {
    signal = req.signal;
    completed = info.completed;
    return hello();
  });
  try {
    const c = await RawClient.open(s.port);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.responses(1);
    await withTimeout(completed as unknown as Promise<void>, 2000, "completed");
    c.destroy();
    await sleep(100);
    assert.equal((signal as unknown as AbortSignal).aborted, false);
  } finally {
    await s.stop();
  }
});

test("http: connectionLimit holds new clients until a slot frees", async () => {
  const s = await startServer(hello, { connectionLimit: 2 });
  try {
    const a = await RawClient.open(s.port);
    const b = await RawClient.open(s.port);
    const c = await RawClient.open(s.port);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await sleep(200);
    assert.equal(c.received.length, 0, "the third client waits");
    a.destroy();
    const [r] = await c.responses(1);
    assert.equal(r.status, 200);
    b.destroy();
    c.destroy();
  } finally {
    await s.stop();
  }
});

test("http: idle connections are closed after channelTimeout", async () => {
  const s = await startServer(hello, { channelTimeout: 1, cleanupInterval: 1 });
  try {
    const c = await RawClient.open(s.port);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.responses(1);
    const t0 = Date.now();
    await c.waitClosed(4000);
    assert.ok(Date.now() - t0 >= 500);
    c.destroy();
  } finally {
    await s.stop();
  }
});

test("http: shutdown() finishes in-flight responses, then stops", async () => {
  const s = await startServer(async () => {
    await sleep(200);
    return new Response("late but whole");
  });
  const c = await RawClient.open(s.port);
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await sleep(50);
  const stopped = s.server.shutdown();
  const [r] = await c.responses(1);
  assert.equal(r.text, "late but whole");
  assert.equal(r.headers.get("connection")?.[0], "close");
  await withTimeout(stopped, 3000, "shutdown");
  await withTimeout(s.server.finished, 3000, "finished");
  await assert.rejects(RawClient.open(s.port));
  c.destroy();
});

test("http: close() during a shutdown() held up by an endless response ends both", async () => {
  const tick = new TextEncoder().encode("tick\n");
  const s = await startServer(() =>
    new Response(
      new ReadableStream({
        pull: async (controller) => {
          await sleep(20);
          controller.enqueue(tick);
        },
      }),
    )
  );
  const c = await RawClient.open(s.port);
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await c.waitFor(() => c.text().includes("tick"), 3000, "first tick");
  let shutDown = false;
  const stopped = s.server.shutdown().then(() => (shutDown = true));
  await sleep(150);
  assert.equal(shutDown, false, "shutdown() waits for the endless response");
  await withTimeout(s.server.close(), 3000, "close");
  await withTimeout(stopped, 3000, "shutdown after close");
  await withTimeout(s.server.finished, 3000, "finished");
  await c.waitClosed(3000);
  c.destroy();
});

test("http: a unix socket gets unixSocketPerms and serves", async () => {
  const dir = mkdtempSync(join(tmpdir(), "waitress-test-"));
  const path = join(dir, "s.sock");
  const { serve } = await import("../mod.ts");
  const server = serve(hello, { unixSocket: path, unixSocketPerms: "660", logger: quiet });
  try {
    await server.ready;
    assert.equal(statSync(path).mode & 0o777, 0o660);
    assert.equal(server.addrs[0].url, `http://unix:${path}`);
    const text = await roundTrip({ path });
    assert.match(text, /^HTTP\/1\.1 200 OK/);
  } finally {
    await server.close();
    assert.equal(existsSync(path), false);
    rmSync(dir, { recursive: true, force: true });
  }
});

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

test("http: a stream that fails after the head cuts the connection (no clean end)", async () => {
  const s = await startServer((req) =>
    req.url.endsWith("/ok") ? hello() : new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("partial"));
          setTimeout(() => controller.error(new Error("stream broke")), 20);
        },
      }),
    )
  );
  try {
    const c = await RawClient.open(s.port);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.waitClosed();
    assert.ok(c.text().includes("partial"));
    assert.ok(!c.text().endsWith("0\r\n\r\n"), "no terminating chunk after a failure");
    c.destroy();
    assert.equal((await exchange(s.port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"))[0].status, 200);
  } finally {
    await s.stop();
  }
});

test("http: trusted proxy headers rewrite the url and client; untrusted ones are removed", async () => {
  const seen: string[] = [];
  const app = (req: Request, info: ServeInfo) => {
    seen.push(
      `${req.url} ${info.remoteAddr.hostname}:${info.remoteAddr.port} xff=${req.headers.get("x-forwarded-for")}`,
    );
    return hello();
  };
  const trusted = await startServer(app, {
    trustedProxy: "127.0.0.1",
    trustedProxyHeaders: "x-forwarded-for x-forwarded-host x-forwarded-proto",
  });
  try {
    const send = (extra: string) =>
      exchange(trusted.port, `GET /p HTTP/1.1\r\nHost: internal:8080\r\n${extra}\r\n`).then((r) => r[0]);
    assert.equal(
      (await send(
        "X-Forwarded-For: 9.9.9.9, 1.2.3.4\r\nX-Forwarded-Host: shop.example\r\nX-Forwarded-Proto: https\r\n",
      ))
        .status,
      200,
    );
    // Without a forwarded port the peer's port stays (waitress keeps REMOTE_PORT).
    assert.match(seen.pop() ?? "", /^https:\/\/shop\.example\/p 1\.2\.3\.4:\d+ xff=1\.2\.3\.4$/);
    const bad = await send("X-Forwarded-Proto: ftp\r\n");
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Header "X-Forwarded-Proto" malformed\./);
  } finally {
    await trusted.stop();
  }
  const untrusted = await startServer(app);
  try {
    await exchange(untrusted.port, "GET /p HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n");
    assert.match(seen.pop() ?? "", /^http:\/\/h\/p 127\.0\.0\.1:\d+ xff=null$/);
  } finally {
    await untrusted.stop();
  }
});

async function slotComesBack(options: ServeInit, within: number): Promise<void> {
  let aborted = false;
  const s = await startServer((req) => {
    if (req.url.endsWith("/hang")) {
      req.signal.addEventListener("abort", () => (aborted = true));
      return new Promise<Response>(() => {});
    }
    return hello();
  }, { threads: 1, ...options });
  try {
    const a = await RawClient.open(s.port);
    a.send("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
    await sleep(100);
    assert.equal(s.server.stats().activeRequests, 1);
    a.destroy();
    const [r] = await withTimeout(exchange(s.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), within, "second client");
    assert.equal(r.status, 200);
    assert.equal(aborted, true);
  } finally {
    await s.stop();
  }
}

test("http: with lookahead, a handler that never settles gives its slot back as soon as its client leaves", async () => {
  await slotComesBack({ channelRequestLookahead: 1 }, 1000);
});

test("http: without lookahead, the slot of a never-settling handler comes back at channelTimeout", async () => {
  await slotComesBack({ channelTimeout: 1, cleanupInterval: 1 }, 4000);
});

test("http: a reader that stalls mid-response loses its connection and slot at channelTimeout", async () => {
  const chunk = new Uint8Array(64 * 1024);
  const s = await startServer((req) =>
    req.url.endsWith("/ok") ? hello() : new Response(
      new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(chunk.slice()) }, { highWaterMark: 0 }),
    ), { threads: 1, channelTimeout: 1, cleanupInterval: 1, outbufHighWatermark: 256 * 1024 });
  const c = await RawClient.open(s.port);
  try {
    c.socket.pause();
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await sleep(200);
    assert.equal(s.server.stats().activeRequests, 1);
    const [r] = await withTimeout(exchange(s.port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"), 5000, "other client");
    assert.equal(r.status, 200);
    assert.equal(s.server.stats().activeRequests, 0);
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("http: bodies of abandoned requests do not leak temporary files", async () => {
  const s = await startServer(
    (req) => req.url.endsWith("/close") ? new Response("x", { headers: { connection: "close" } }) : hello(),
    {
      inbufOverflow: 100,
    },
  );
  try {
    // Mid-body: the client leaves with half of a spilled body.
    const a = await RawClient.open(s.port);
    a.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n" + "a".repeat(5000));
    await sleep(100);
    a.destroy();
    // Pipelined behind a response that closes: the queued request with a spilled body is dropped.
    const b = await RawClient.open(s.port);
    b.send(
      "GET /close HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
        "b".repeat(5000),
    );
    await b.waitClosed();
    b.destroy();
    const deadline = Date.now() + 3000;
    while ((s.server.stats().tempFiles > 0 || s.server.stats().connections > 0) && Date.now() < deadline) {
      await sleep(20);
    }
    assert.deepEqual(s.server.stats(), { connections: 0, activeRequests: 0, queuedRequests: 0, tempFiles: 0 });
  } finally {
    await s.stop();
  }
});

test("http: a client that half-closes after its requests still gets every response", async () => {
  const s = await startServer(async (req) => {
    await sleep(20);
    return new Response(new URL(req.url).pathname);
  });
  try {
    const c = await RawClient.open(s.port);
    c.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
    c.socket.end();
    await c.waitClosed();
    const rs = await c.responses(2);
    assert.deepEqual(rs.map((r) => r.text), ["/1", "/2"]);
    assert.equal(rs[1].headers.get("connection")?.[0], "close");
    c.destroy();
  } finally {
    await s.stop();
  }
});

test("http: listen '*' serves IPv4 and IPv6 clients on one port, on every runtime", async () => {
  // Find a free port, then listen on every address with it.
  const probe = await startServer(hello);
  const port = probe.port;
  await probe.stop();
  const { serve } = await import("../mod.ts");
  // The peer as the app sees it: an IPv4 client is "127.0.0.1" even where one dual-stack "::" socket took it (Deno).
  const app = (_req: Request, info: ServeInfo) => new Response(info.remoteAddr.hostname);
  const server = serve(app, { listen: `*:${port}`, logger: quiet });
  try {
    await server.ready;
    const ask = (host: string) => roundTrip({ host, port });
    assert.match(await ask("127.0.0.1"), /^HTTP\/1\.1 200 OK[^]*\r\n\r\n127\.0\.0\.1$/);
    assert.match(await ask("::1"), /^HTTP\/1\.1 200 OK[^]*\r\n\r\n::1$/);
  } finally {
    await server.close();
  }
});

test("http: streamed chunks of every size class are framed exactly (copied or gathered)", async () => {
  const sizes = [1, 1023, 1024, 1025, 16_383, 16_384, 16_385, 70_000];
  const chunks = sizes.map((n, i) => new Uint8Array(n).fill(97 + i));
  // The stream ends only later (a body still being produced), so the peek cannot find its end: chunked.
  const s = await startServer(() => {
    let i = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (i < chunks.length) controller.enqueue(chunks[i++]);
          else {
            await new Promise((resolve) => setTimeout(resolve, 20));
            controller.close();
          }
        },
      }, { highWaterMark: 0 }),
    );
  });
  const c = await RawClient.open(s.port);
  try {
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const rs = await c.responses(2);
    const want = sizes.map((n, i) => String.fromCharCode(97 + i).repeat(n)).join("");
    for (const r of rs) {
      assert.equal(r.framing, "chunked");
      assert.equal(r.text, want);
    }
    // One chunk on the wire per chunk the app enqueued, whichever way it was written.
    for (const n of sizes) assert.ok(c.text().includes(`\r\n${n.toString(16).toUpperCase()}\r\n`), `chunk of ${n}`);
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("http: one connection stays alive across bodies of every size, read or not, framed either way", async () => {
  // Peers have broken keep-alive for bodies that did not fit a first read (denoland/deno#36657).
  const s = await startServer(async (req) => {
    const read = req.url.endsWith("read=1");
    return new Response(`n=${read ? (await req.arrayBuffer()).byteLength : -1}`);
  });
  const sizes = [0, 1, 1023, 1024, 1025, 8192, 8193, 65536, 65537, 524288, 524289, 1048576];
  const c = await RawClient.open(s.port);
  try {
    const expected: string[] = [];
    let i = 0;
    for (const size of sizes) {
      for (const read of [0, 1]) {
        const chunked = i++ % 2 === 1;
        const body = "a".repeat(size);
        const framed = chunked
          ? "Transfer-Encoding: chunked\r\n\r\n" + (size > 0 ? `${size.toString(16)}\r\n${body}\r\n` : "") + "0\r\n\r\n"
          : `Content-Length: ${size}\r\n\r\n${body}`;
        c.send(`POST /?read=${read} HTTP/1.1\r\nHost: x\r\n${framed}`);
        expected.push(`n=${read ? size : -1}`);
        const responses = await c.responses(expected.length, 5000);
        assert.equal(responses.at(-1)!.text, expected.at(-1));
        assert.equal(responses.at(-1)!.headers.get("connection"), undefined);
      }
    }
    assert.equal(c.closed || c.ended, false);
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("http: the head goes out at once when the body's first chunk is slow (server-sent events)", async () => {
  // @hono/node-server#244: SSE clients saw no status until the first event. Here the first event waits for the
  // client to have seen the head: a server that held the head back for it would never send either.
  const event = new TextEncoder().encode("data: hi\n\n");
  let release = () => {};
  const s = await startServer((req) =>
    new Response(
      new ReadableStream({
        start: async (controller) => {
          await new Promise<void>((resolve) => release = resolve);
          controller.enqueue(event);
          controller.close();
        },
      }),
      { headers: req.url.endsWith("declared") ? { "content-length": String(event.length) } : {} },
    )
  );
  try {
    for (const path of ["/events", "/events?declared"]) {
      const c = await RawClient.open(s.port);
      c.send(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await c.waitFor(() => c.text().includes("\r\n\r\n"), 3000, `${path}: the head before the first event`);
      assert.match(c.text(), /^HTTP\/1\.1 200 OK\r\n/);
      release();
      const [r] = await c.responses(1, 3000);
      assert.equal(r.text, "data: hi\n\n");
      c.destroy();
    }
  } finally {
    await s.stop();
  }
});
