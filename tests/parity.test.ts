// Where this port follows waitress, or deliberately does not (README,
// "Differences from waitress"), checked through real sockets on every
// runtime: higher HTTP/1.x minor versions, a Content-Length for bodies of
// known size whatever the runtime's streams do, an error answered behind a
// good pipelined request, the warning for a body longer than its declared
// length, and the minimum request-body rate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawClient } from "./support/raw_client.ts";
import { startServer } from "./support/server.ts";
import { sleep } from "./support/time.ts";

const echoVersion = (request: Request) => new Response(`${request.method} ${new URL(request.url).pathname}`);

test("parity: HTTP/1.2 to 1.9 are served as HTTP/1.1, other majors stay 505", async () => {
  const s = await startServer(async (request) => new Response(`${request.method} ${await request.text()}`));
  try {
    for (const minor of [2, 9]) {
      const c = await RawClient.open(s.port);
      try {
        // Persistent by default and chunked request bodies, as HTTP/1.1; two requests on one connection.
        c.send(`POST / HTTP/1.${minor}\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`);
        c.send(`GET /again HTTP/1.${minor}\r\nHost: x\r\n\r\n`);
        const [first, second] = await c.responses(2);
        assert.equal(first.version, "1.1");
        assert.equal(first.status, 200);
        assert.equal(first.text, "POST abc");
        assert.equal(first.headers.get("connection"), undefined);
        assert.equal(second.version, "1.1");
        assert.equal(second.text, "GET ");
      } finally {
        c.destroy();
      }
    }
    // HTTP/1.1's rules come with it: a Host is required.
    const noHost = await RawClient.open(s.port);
    noHost.send("GET / HTTP/1.3\r\n\r\n");
    const [bad] = await noHost.responses(1);
    assert.equal(bad.status, 400);
    assert.equal(bad.version, "1.1");
    noHost.destroy();
    for (const [version, answer] of [["2.0", "1.1"], ["3.1", "1.1"], ["0.9", "1.0"]]) {
      const c = await RawClient.open(s.port);
      c.send(`GET / HTTP/${version}\r\nHost: x\r\n\r\n`);
      const [r] = await c.responses(1);
      await c.waitClosed();
      assert.equal(r.status, 505, version);
      assert.equal(r.version, answer, version);
      c.destroy();
    }
  } finally {
    await s.stop();
  }
});

/** Bodies whose size is known when the Response is made. */
function knownSizeBodies(size: number): Array<[string, () => BodyInit]> {
  const bytes = new Uint8Array(size).map((_, i) => 97 + (i % 26));
  const text = new TextDecoder().decode(bytes);
  return [
    ["Blob", () => new Blob([bytes])],
    ["ArrayBuffer", () => bytes.slice().buffer],
    ["Uint8Array", () => bytes.slice()],
    ["DataView", () => new DataView(bytes.slice().buffer)],
    ["string", () => text],
  ];
}

test("parity: a body of known size gets a Content-Length on every runtime, HTTP/1.0 keep-alive included", async () => {
  for (const size of [100, 20_000, 300_000, 3_000_000]) {
    const bodies = knownSizeBodies(size);
    const s = await startServer((request) => {
      const kind = new URL(request.url).pathname.slice(1);
      return new Response(bodies.find(([name]) => name === kind)![1]());
    });
    try {
      for (const [kind] of bodies) {
        for (const version of ["1.1", "1.0"]) {
          const c = await RawClient.open(s.port);
          try {
            const keepAlive = version === "1.0" ? "Connection: keep-alive\r\n" : "";
            c.send(`GET /${kind} HTTP/${version}\r\nHost: x\r\n${keepAlive}\r\n`.repeat(2));
            const rs = await c.responses(2, 10_000);
            for (const r of rs) {
              assert.equal(r.framing, "length", `${kind} ${size} HTTP/${version}`);
              assert.equal(r.headers.get("content-length")?.[0], String(size), `${kind} ${size}`);
              assert.equal(r.body.length, size);
              assert.equal(r.body[size - 1], 97 + ((size - 1) % 26));
            }
          } finally {
            c.destroy();
          }
        }
      }
    } finally {
      await s.stop();
    }
  }
});

test("parity: a stream whose chunks are all ready at once gets a Content-Length, up to outbufHighWatermark", async () => {
  const eager = (count: number, size: number) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < count; i++) controller.enqueue(new Uint8Array(size).fill(97 + i));
        controller.close();
      },
    });
  const s = await startServer(
    (request) => new Response(new URL(request.url).pathname === "/small" ? eager(3, 10) : eager(10, 100_000)),
    { outbufHighWatermark: 250_000 },
  );
  const c = await RawClient.open(s.port);
  try {
    c.send("GET /small HTTP/1.1\r\nHost: x\r\n\r\nGET /large HTTP/1.1\r\nHost: x\r\n\r\n");
    const [small, large] = await c.responses(2, 10_000);
    assert.equal(small.framing, "length");
    assert.equal(small.text, "a".repeat(10) + "b".repeat(10) + "c".repeat(10));
    // Past the high watermark the peek stops reading on: the rest streams with back-pressure.
    assert.equal(large.framing, "chunked");
    assert.equal(large.body.length, 1_000_000);
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("parity: a stream that is still being produced goes out chunked, its first chunk before the last exists", async () => {
  let releaseLast!: () => void;
  const lastMayCome = new Promise<void>((resolve) => (releaseLast = resolve));
  const s = await startServer(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode("first;"));
          await lastMayCome;
          controller.enqueue(new TextEncoder().encode("last"));
          controller.close();
        },
      }),
    )
  );
  const c = await RawClient.open(s.port);
  try {
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.waitFor(() => c.text().includes("first;"), 5000, "the first chunk");
    assert.match(c.text(), /Transfer-Encoding: chunked/);
    releaseLast();
    const [r] = await c.responses(1);
    assert.equal(r.framing, "chunked");
    assert.equal(r.text, "first;last");
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("parity: an error pipelined behind a good request is answered after it (waitress's TooLargeTests)", async () => {
  // waitress test_request_body_too_large_with_no_cl_http11 and friends: body bytes sent without a
  // Content-Length read as the next request's head, which outgrows maxRequestHeaderSize.
  const s = await startServer(echoVersion, { maxRequestHeaderSize: 1000, maxRequestBodySize: 1000 });
  try {
    for (
      const head of [
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
      ]
    ) {
      const c = await RawClient.open(s.port);
      try {
        c.send(head + "a".repeat(1050));
        const [ok, error] = await c.responses(2);
        await c.waitClosed();
        assert.equal(ok.status, 200, head);
        assert.equal(ok.headers.get("connection")?.[0] ?? "", head.includes("1.0") ? "Keep-Alive" : "", head);
        assert.equal(error.status, 431, head);
        assert.equal(error.version, "1.0");
        assert.equal(error.headers.get("connection")?.[0], "close");
      } finally {
        c.destroy();
      }
    }
  } finally {
    await s.stop();
  }
});

test("parity: a body longer than its Content-Length is cut there, logged, and the connection kept", async () => {
  const s = await startServer(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new TextEncoder().encode("abcdefghij"));
        },
      }),
      { headers: { "content-length": "4" } },
    )
  );
  const c = await RawClient.open(s.port);
  try {
    c.send("GET /long HTTP/1.1\r\nHost: x\r\n\r\nGET /again HTTP/1.1\r\nHost: x\r\n\r\n");
    const [a, b] = await c.responses(2);
    assert.equal(a.text, "abcd");
    assert.equal(b.text, "abcd");
    assert.equal(
      s.logs.filter((l) => l.startsWith("WARN") && l.includes("exceeded") && l.includes("/long")).length,
      1,
      s.logs.join("\n"),
    );
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("parity: a request body that falls below bodyMinRate after bodyTimeout gets a 408 and a close", async () => {
  const s = await startServer(async (request) => new Response(`got ${(await request.arrayBuffer()).byteLength}`), {
    bodyTimeout: 1,
    bodyMinRate: 200,
    cleanupInterval: 1,
  });
  try {
    // One byte every 150 ms: far below 200 bytes/s. Allowed: 1 s, plus 1 s per 200 bytes received.
    const slow = await RawClient.open(s.port);
    const started = Date.now();
    slow.send("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
    for (let i = 0; i < 40 && !slow.closed && !slow.ended; i++) {
      slow.send("x");
      await sleep(150);
    }
    await slow.waitClosed(5000);
    const elapsed = Date.now() - started;
    const [r] = await slow.responses(1);
    assert.equal(r.status, 408);
    assert.equal(r.headers.get("connection")?.[0], "close");
    assert.ok(elapsed >= 1000 && elapsed < 4500, `cut after ${elapsed} ms`);
    slow.destroy();

    // A client that stops sending altogether is cut by the sweep at the same deadline.
    const stalled = await RawClient.open(s.port);
    stalled.send("POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    await stalled.waitClosed(4000);
    assert.equal((await stalled.responses(1))[0].status, 408);
    stalled.destroy();

    // A body that keeps to the rate may take longer than bodyTimeout: 1,600 bytes over ~1.6 s (about 1,000/s).
    const steady = await RawClient.open(s.port);
    steady.send("POST /steady HTTP/1.1\r\nHost: x\r\nContent-Length: 1600\r\n\r\n");
    for (let i = 0; i < 16; i++) {
      steady.send("y".repeat(100));
      await sleep(100);
    }
    const [ok] = await steady.responses(1);
    assert.equal(ok.status, 200);
    assert.equal(ok.text, "got 1600");
    steady.destroy();
  } finally {
    await s.stop();
  }
});

test("parity: the body clock does not run while the server itself is not reading", async () => {
  // A request pipelined behind a slow handler is not read while that handler runs; its slow
  // arrival is the server's doing, not the client's.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const s = await startServer(async (request) => {
    if (new URL(request.url).pathname === "/slow-handler") await gate;
    return new Response(`got ${(await request.arrayBuffer()).byteLength}`);
  }, { bodyTimeout: 1, bodyMinRate: 1000, cleanupInterval: 1 });
  const c = await RawClient.open(s.port);
  try {
    c.send(
      "GET /slow-handler HTTP/1.1\r\nHost: x\r\n\r\nPOST /next HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab",
    );
    await sleep(2500);
    release();
    await sleep(50);
    c.send("cd");
    const [first, second] = await c.responses(2);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(second.text, "got 4");
  } finally {
    c.destroy();
    await s.stop();
  }
});

test("parity: bodyTimeout=0 turns the minimum body rate off", async () => {
  const s = await startServer(async (request) => new Response(`got ${(await request.arrayBuffer()).byteLength}`), {
    bodyTimeout: 0,
    bodyMinRate: 1000,
    cleanupInterval: 1,
  });
  const c = await RawClient.open(s.port);
  try {
    c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na");
    await sleep(1300);
    c.send("b");
    await sleep(1300);
    c.send("c");
    const [r] = await c.responses(1);
    assert.equal(r.text, "got 3");
  } finally {
    c.destroy();
    await s.stop();
  }
});
