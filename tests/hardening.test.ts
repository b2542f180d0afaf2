// Hardening: slow and vanishing clients, application misbehaviour, a stalled
// reader of a huge response, graceful shutdown under load, and a short soak.
// Loopback only; every loop is bounded in count and time; every server and
// socket is closed at the end.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { exchange, RawClient } from "./support/raw_client.ts";
import { parseResponses } from "./support/responses.ts";
import { startServer, type TestServer } from "./support/server.ts";
import { sleep, withTimeout } from "./support/time.ts";
import { openTempFileCount } from "../lib/buffers.ts";
import type { ServeInfo, Server } from "../mod.ts";

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const hello = () => new Response("Hello World");

/** Polls `predicate` every 20 ms until it holds; throws after `ms`. */
async function waitUntil(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Waits until the server holds no connection or request and no more temporary
 * files than `tempFilesBefore` (the count is process-wide, and a leak found by
 * an earlier test stays leaked).
 */
async function waitDrained(server: Server, tempFilesBefore: number, ms = 3000): Promise<void> {
  const want = { connections: 0, activeRequests: 0, queuedRequests: 0, tempFiles: tempFilesBefore };
  try {
    await waitUntil(
      () => {
        const st = server.stats();
        return st.connections === 0 && st.activeRequests === 0 && st.queuedRequests === 0 &&
          st.tempFiles === tempFilesBefore;
      },
      ms,
      "stats back to zero",
    );
  } catch {
    assert.deepEqual(server.stats(), want);
  }
}

/** A request with a body, as bytes. */
function post(path: string, body: Uint8Array | string, extra = ""): Uint8Array {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const head = new TextEncoder().encode(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${bytes.length}\r\n${extra}\r\n`,
  );
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head);
  out.set(bytes, head.length);
  return out;
}

/** One normal request on a fresh connection; returns its status and how long it took. */
async function timedGet(port: number, path = "/ok"): Promise<{ status: number; ms: number }> {
  const t0 = Date.now();
  const [r] = await withTimeout(exchange(port, GET(path)), 3000, `GET ${path}`);
  return { status: r.status, ms: Date.now() - t0 };
}

// ---- slow clients ------------------------------------------------------------

test("hardening: a slowloris head (one byte at a time) is cut off by channelTimeout; others are served meanwhile", async () => {
  const temp0 = openTempFileCount();
  const seen: string[] = [];
  const s = await startServer((req) => (seen.push(new URL(req.url).pathname), hello()), {
    threads: 1,
    channelTimeout: 1,
    cleanupInterval: 1,
  });
  const slow = await RawClient.open(s.port);
  try {
    // 100 ms per byte: every byte well within the 1 s timeout, the whole head far beyond it (~9 s).
    const head = GET("/slow", `X-Pad: ${"a".repeat(60)}\r\n`);
    const t0 = Date.now();
    let sent = 0;
    let normal: { status: number; ms: number } | null = null;
    while (sent < head.length && !slow.closed && !slow.ended && Date.now() - t0 < 8000) {
      slow.send(head[sent++]);
      await sleep(100);
      if (sent === 5) {
        // Mid-trickle, with threads=1: the slow head holds no application slot.
        assert.equal(s.server.stats().activeRequests, 0);
        normal = await timedGet(s.port);
      }
    }
    await slow.waitClosed(3000);
    const elapsed = Date.now() - t0;
    assert.ok(sent < head.length, `the whole head (${head.length} bytes) went through`);
    assert.ok(elapsed >= 900 && elapsed < 3500, `cut off after ${elapsed} ms (channelTimeout 1 s, sweep every 1 s)`);
    assert.equal(slow.received.length, 0, "no response to a head that never completed");
    assert.ok(normal !== null && normal.status === 200 && normal.ms < 1000, `normal client: ${JSON.stringify(normal)}`);
    assert.deepEqual(seen, ["/ok"]);
    await waitDrained(s.server, temp0);
  } finally {
    slow.destroy();
    await s.stop();
  }
});

test("hardening: a trickled body never holds an application slot; a stalled body is closed for inactivity", async () => {
  let calls = 0;
  const s = await startServer(async (req) => {
    calls++;
    return new Response(`got ${(await req.bytes()).length}`);
  }, { threads: 1, channelTimeout: 1, cleanupInterval: 1 });
  const trickle = await RawClient.open(s.port);
  const stalled = await RawClient.open(s.port);
  try {
    const body = "b".repeat(24);
    trickle.send(`POST /t HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    stalled.send(`POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    const t0 = Date.now();
    let normal: { status: number; ms: number } | null = null;
    let stalledClosedAt = -1;
    // One byte per 100 ms: 2.4 s in all, longer than channelTimeout, never inactive for it.
    for (let i = 0; i < body.length && !trickle.closed && !trickle.ended; i++) {
      trickle.send(body[i]);
      await sleep(100);
      const st = s.server.stats();
      assert.equal(st.activeRequests, 0, `byte ${i}: a partly received body holds no slot`);
      assert.equal(st.queuedRequests, 0);
      if (i === 12) normal = await timedGet(s.port);
      if (stalledClosedAt < 0 && (stalled.closed || stalled.ended)) stalledClosedAt = Date.now() - t0;
    }
    // waitress semantics: a body is cut on inactivity, not on overall slowness, so the trickle completes.
    const [r] = await trickle.responses(1, 3000);
    assert.equal(r.status, 200);
    assert.equal(r.text, `got ${body.length}`);
    assert.ok(normal !== null && normal.status === 200 && normal.ms < 1000, `normal client: ${JSON.stringify(normal)}`);
    await stalled.waitClosed(3000);
    if (stalledClosedAt < 0) stalledClosedAt = Date.now() - t0;
    assert.ok(stalledClosedAt >= 900 && stalledClosedAt < 3500, `stalled body closed after ${stalledClosedAt} ms`);
    assert.equal(stalled.received.length, 0);
    assert.equal(calls, 2, "the app saw the trickled request and the normal one, not the stalled one");
  } finally {
    trickle.destroy();
    stalled.destroy();
    await s.stop();
  }
});

// ---- a client that stops reading a huge response ------------------------------

test("hardening: a client that stops reading a 256 MiB stream holds the app near outbufHighWatermark; memory stays flat", async () => {
  const temp0 = openTempFileCount();
  const total = 256 * 1024 * 1024;
  const chunk = new Uint8Array(64 * 1024).fill(120);
  const watermark = 2 * 1024 * 1024;
  let produced = 0;
  const s = await startServer(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (produced >= total) return controller.close();
          produced += chunk.length;
          controller.enqueue(chunk.slice());
        },
      }, { highWaterMark: 0 }),
      { headers: { "content-length": String(total) } },
    ), { outbufHighWatermark: watermark, outbufOverflow: 512 * 1024 });
  let socket: Socket | null = null;
  try {
    const rss0 = process.memoryUsage().rss;
    let got = 0;
    let ended = false;
    socket = await withTimeout(
      new Promise<Socket>((resolve, reject) => {
        const c = connect({ host: "127.0.0.1", port: s.port }, () => resolve(c));
        c.once("error", reject);
      }),
      3000,
      "connect",
    );
    const sock = socket;
    sock.on("data", (d: Uint8Array) => (got += d.length));
    sock.on("end", () => (ended = true));
    sock.on("error", () => {});
    sock.pause();
    sock.write(GET("/big"));
    // Wait for the pull count to plateau (unchanged for 300 ms), within 4 s.
    let last = -1;
    let stableSince = Date.now();
    const t0 = Date.now();
    while (Date.now() - t0 < 4000) {
      await sleep(50);
      if (produced !== last) {
        last = produced;
        stableSince = Date.now();
      } else if (Date.now() - stableSince >= 300) break;
    }
    const plateau = produced;
    const rssStalled = process.memoryUsage().rss;
    // Socket buffers on loopback (both ends) add a few MiB; nothing near the 256 MiB would-be response.
    assert.ok(plateau > 0, "the app produced something");
    assert.ok(plateau <= watermark + 24 * 1024 * 1024, `produced ${plateau} bytes for a client that reads nothing`);
    assert.equal(Date.now() - stableSince >= 300, true, `pulls did not plateau (produced ${plateau})`);
    // Now read it all, sampling memory: it must not grow with the response size.
    let peak = rssStalled;
    sock.resume();
    const t1 = Date.now();
    while (!ended && got < total && Date.now() - t1 < 15000) {
      await sleep(25);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    assert.ok(got >= total, `received ${got} of ${total} body bytes`);
    const growth = peak - rss0;
    assert.ok(growth < 128 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB for a 256 MiB response`);
    sock.destroy();
    await waitDrained(s.server, temp0);
  } finally {
    socket?.destroy();
    await s.stop();
  }
});

test("hardening: a stalled reader of a streamed response gives its slot back after channelTimeout without progress", async () => {
  const chunk = new Uint8Array(64 * 1024);
  const s = await startServer((req) =>
    req.url.endsWith("/ok") ? hello() : new Response(
      new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(chunk.slice()) }, { highWaterMark: 0 }),
    ), { threads: 1, channelTimeout: 1, cleanupInterval: 1, outbufHighWatermark: 256 * 1024 });
  let socket: Socket | null = null;
  try {
    socket = connect({ host: "127.0.0.1", port: s.port });
    socket.on("error", () => {});
    socket.pause();
    socket.write(GET("/endless"));
    await waitUntil(() => s.server.stats().activeRequests === 1, 2000, "the stream to start");
    // The reader reads nothing from now on: no progress for channelTimeout must free the slot.
    await waitUntil(() => s.server.stats().activeRequests === 0, 3500, "the stalled reader's slot to be given back");
    const r = await timedGet(s.port);
    assert.equal(r.status, 200);
  } finally {
    socket?.destroy();
    await s.stop();
  }
});

// ---- vanishing clients ---------------------------------------------------------

test("hardening: a client vanishing mid-head leaves nothing behind", async () => {
  const temp0 = openTempFileCount();
  let calls = 0;
  const s = await startServer(() => (calls++, hello()));
  try {
    for (const part of ["G", "GET / HT", "GET / HTTP/1.1\r\nHost: x\r\nX-A: b"]) {
      const c = await RawClient.open(s.port);
      c.send(part);
      await sleep(30);
      assert.equal(s.server.stats().connections, 1);
      c.destroy();
      await waitDrained(s.server, temp0);
    }
    assert.equal(calls, 0);
    assert.equal((await timedGet(s.port)).status, 200);
  } finally {
    await s.stop();
  }
});

test("hardening: a client vanishing mid-body leaves no temporary file behind", async () => {
  const temp0 = openTempFileCount();
  let calls = 0;
  const s = await startServer(async (req) => (calls++, new Response(String((await req.bytes()).length))), {
    inbufOverflow: 1000,
  });
  try {
    const c = await RawClient.open(s.port);
    c.send(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`);
    c.send("z".repeat(50_000));
    await waitUntil(() => s.server.stats().tempFiles === 1, 2000, "the body to spill to a temporary file");
    c.destroy();
    await waitDrained(s.server, temp0, 1500);
    assert.equal(calls, 0);
  } finally {
    await s.stop();
  }
});

test("hardening: pipelined requests dropped after a closing response leave no temporary file behind", async () => {
  const temp0 = openTempFileCount();
  const s = await startServer(async (req) => {
    if (req.url.endsWith("/throw")) throw new Error("app failure");
    return new Response(String((await req.bytes()).length));
  }, { inbufOverflow: 1000 });
  try {
    for (const first of [GET("/throw"), GET("/close", "Connection: close\r\n")]) {
      const c = await RawClient.open(s.port);
      c.send(first);
      c.send(post("/next", "q".repeat(5000)));
      await c.waitClosed();
      assert.equal((await c.responses(1))[0].headers.get("connection")?.[0], "close");
      c.destroy();
      await waitDrained(s.server, temp0, 1500);
    }
  } finally {
    await s.stop();
  }
});

test("hardening: a client vanishing mid-response aborts the request and releases everything", async () => {
  const temp0 = openTempFileCount();
  let signal: AbortSignal | null = null;
  let completed: Promise<void> | null = null;
  const s = await startServer((req: Request, info: ServeInfo) => {
    if (req.url.endsWith("/ok")) return hello();
    signal = req.signal;
    completed = info.completed;
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          await sleep(2);
          controller.enqueue(new Uint8Array(64 * 1024));
        },
      }),
    );
    // A small outbuf so pending output spills to a temporary file while the client is away.
  }, { outbufOverflow: 16 * 1024, outbufHighWatermark: 4 * 1024 * 1024 });
  try {
    const c = await RawClient.open(s.port);
    c.send(GET("/stream"));
    await c.waitFor(() => c.received.length > 200_000, 5000, "part of the body");
    assert.equal(s.server.stats().activeRequests, 1);
    c.destroy();
    await waitUntil(() => (signal as AbortSignal | null)?.aborted === true, 3000, "request.signal to abort");
    await assert.rejects(withTimeout(completed as unknown as Promise<void>, 3000, "completed"));
    await waitDrained(s.server, temp0);
    assert.equal((await timedGet(s.port)).status, 200);
  } finally {
    await s.stop();
  }
});

// ---- application misbehaviour ------------------------------------------------------

test("hardening: a misbehaving app (throws, rejects, non-Response, broken stream, never resolves) stalls nobody", async () => {
  const temp0 = openTempFileCount();
  const enc = new TextEncoder();
  const s = await startServer((req) => {
    const path = new URL(req.url).pathname;
    switch (path) {
      case "/throw":
        throw new Error("thrown");
      case "/reject":
        return Promise.reject(new Error("rejected"));
      case "/not-a-response":
        return { status: 200 } as unknown as Response;
      case "/broken-before-head":
        return new Response(new ReadableStream({ pull: (c) => c.error(new Error("broken at once")) }));
      case "/broken-after-first-chunk": {
        // Fails right after its first chunk, while the engine still decides the framing: nothing was sent yet.
        let n = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            pull: (c) => n++ === 0 ? c.enqueue(enc.encode("first")) : c.error(new Error("broken on the second read")),
          }),
        );
      }
      case "/broken-after-head": {
        let n = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            async pull(c) {
              await sleep(10);
              if (n++ < 3) c.enqueue(enc.encode(`part${n};`));
              else c.error(new Error("broken half-way"));
            },
          }),
        );
      }
      case "/hang":
        return new Promise<Response>(() => {});
      default:
        return hello();
    }
  }, { threads: 2, channelTimeout: 1, cleanupInterval: 1 });
  try {
    for (const path of ["/throw", "/reject", "/not-a-response", "/broken-before-head", "/broken-after-first-chunk"]) {
      const c = await RawClient.open(s.port);
      c.send(GET(path));
      const other = await timedGet(s.port);
      assert.equal(other.status, 200, `another client during ${path}`);
      await c.waitClosed();
      const rs = await c.responses(1);
      assert.equal(rs[0].status, 500, path);
      assert.equal(rs[0].headers.get("connection")?.[0], "close", path);
      assert.equal(c.text().split("HTTP/1.1 ").length - 1, 1, `${path}: exactly one response`);
      c.destroy();
    }
    // After the head went out, a broken stream can only cut the connection: no terminating chunk.
    const b = await RawClient.open(s.port);
    b.send(GET("/broken-after-head"));
    assert.equal((await timedGet(s.port)).status, 200);
    await b.waitClosed();
    assert.match(b.text(), /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(b.text().includes("part3;"));
    assert.ok(!b.text().endsWith("0\r\n\r\n"), "no clean end after a failure");
    assert.equal(parseResponses(b.received, true).length, 0, "the truncated response does not parse as complete");
    b.destroy();
    // A never-resolving handler holds one slot; the other still serves.
    const h1 = await RawClient.open(s.port);
    h1.send(GET("/hang"));
    await waitUntil(() => s.server.stats().activeRequests === 1, 2000, "the first hang to start");
    assert.equal((await timedGet(s.port)).status, 200);
    const h2 = await RawClient.open(s.port);
    h2.send(GET("/hang"));
    await waitUntil(() => s.server.stats().activeRequests === 2, 2000, "the second hang to start");
    // Both slots held: a new request queues ...
    const waiting = exchange(s.port, GET("/ok"));
    await waitUntil(() => s.server.stats().queuedRequests === 1, 2000, "the third request to queue");
    // ... until a hanging client goes away and gives its slot back.
    h1.destroy();
    const [r] = await withTimeout(waiting, 3000, "queued request");
    assert.equal(r.status, 200);
    h2.destroy();
    // The slots come back as soon as the clients are seen to leave; the half-closed connections go at
    // the next sweep after channelTimeout.
    await waitUntil(() => s.server.stats().activeRequests === 0, 1000, "the second hang's slot");
    await waitDrained(s.server, temp0, 4000);
    assert.ok(s.logs.some((l) => l.startsWith("ERROR") && l.includes("broken half-way")));
  } finally {
    await s.stop();
  }
});

// ---- graceful shutdown under load -----------------------------------------------

test("hardening: shutdown() under load: every response the app produced arrives whole; nothing hangs", async () => {
  const temp0 = openTempFileCount();
  let handled = 0;
  const enc = new TextEncoder();
  const s: TestServer = await startServer(async (req) => {
    handled++;
    const url = new URL(req.url);
    const id = url.searchParams.get("id") ?? "";
    await sleep(Number(id.length % 4) * 3);
    const payload = `${id}:${"x".repeat(2000)}:${id}`;
    if (url.pathname === "/chunked") {
      // Several chunks with pauses: a truncated chunked body is easy to see.
      let i = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(c) {
            await sleep(2);
            if (i++ < 4) c.enqueue(enc.encode(payload));
            else c.close();
          },
        }),
      );
    }
    return new Response(payload);
  }, { threads: 4 });
  const clients: RawClient[] = [];
  try {
    const lanes = 40;
    const stopAt = Date.now() + 8000;
    const results = { responses: 0, truncated: 0, mismatched: 0 };
    const lane = async (n: number) => {
      const c = await RawClient.open(s.port);
      clients.push(c);
      let sent = 0;
      const expected: string[] = [];
      while (!c.closed && !c.ended && Date.now() < stopAt) {
        // Alternate single requests and pipelined pairs.
        const burst = n % 2 === 0 ? 1 : 2;
        for (let k = 0; k < burst; k++) {
          const id = `${n}-${sent++}`;
          expected.push(id);
          c.send(GET(`/${sent % 3 === 0 ? "chunked" : "plain"}?id=${id}`));
        }
        try {
          await c.responses(expected.length, 5000);
        } catch {
          break; // Closed by the shutdown before answering what we just sent.
        }
      }
      await c.waitClosed(5000);
      const rs = parseResponses(c.received, true);
      // Responses answer the requests in order, and are whole (the body carries the id at both ends).
      rs.forEach((r, i) => {
        const id = expected[i];
        const whole = `${id}:${"x".repeat(2000)}:${id}`;
        if (r.status !== 200 || r.text !== (r.framing === "chunked" ? whole.repeat(4) : whole)) results.mismatched++;
      });
      results.responses += rs.length;
      // Bytes beyond the last complete response would be a truncated one.
      const text = c.text();
      const lastEnd = findEndOfResponses(c.received, rs.length);
      if (lastEnd !== text.length) results.truncated++;
    };
    const running = Array.from({ length: lanes }, (_, i) => lane(i));
    await sleep(500);
    const before = handled;
    assert.ok(before > lanes, `load was running (${before} requests before shutdown)`);
    const stopped = s.server.shutdown();
    await withTimeout(Promise.all(running), 8000, "clients to finish");
    await withTimeout(stopped, 5000, "shutdown");
    await withTimeout(s.server.finished, 5000, "finished");
    assert.equal(results.truncated, 0, "no truncated response");
    assert.equal(results.mismatched, 0, "every response answers its request, in order");
    assert.equal(results.responses, handled, "every request the app handled got its whole response");
    assert.deepEqual(s.server.stats(), { connections: 0, activeRequests: 0, queuedRequests: 0, tempFiles: temp0 });
  } finally {
    for (const c of clients) c.destroy();
    await s.stop();
  }
});

/** Offset just past the `count`-th complete response in `buf`: the smallest prefix that parses into that many. */
function findEndOfResponses(buf: Uint8Array, count: number): number {
  if (count === 0) return 0;
  let lo = 0;
  let hi = buf.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (parseResponses(buf.subarray(0, mid), false).length >= count) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// ---- the quick soak ------------------------------------------------------------------

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The quick soak's output, run once (under Node: it takes ~10 s) and checked by the two tests below. */
let soak: Promise<{ code: number | null; out: string }> | null = null;
const onNode = (process.env.WAITRESS_TEST_RUNTIME ?? "node") === "node" && !("Deno" in globalThis) &&
  !("Bun" in globalThis);

function runQuickSoak(): Promise<{ code: number | null; out: string }> {
  soak ??= (async () => {
    const node = join(root, "node_modules", ".bin", "node");
    assert.ok(existsSync(node), "node_modules/.bin/node (npm install)");
    const child = spawn(node, [join(root, "scripts", "soak.ts"), "--quick", "--runtime=node"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const code = await withTimeout(
      new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c))),
      45_000,
      "quick soak",
    ).catch((e) => {
      child.kill("SIGKILL");
      throw e;
    });
    return { code, out };
  })();
  return soak;
}

interface SoakFigures {
  requests: number;
  lost: number;
  misordered: number;
  errors: number;
  shutdown: { handled: number; received: number; truncated: number; exit: number | string };
}

test("hardening: quick soak (scripts/soak.ts --quick): no lost, misordered or failed response; clean shutdown", {
  skip: onNode ? false : "the quick soak runs under Node only (time budget)",
}, async () => {
  const { out } = await runQuickSoak();
  const line = out.split("\n").find((l) => l.startsWith("figures: "));
  assert.ok(line !== undefined, out.slice(-4000));
  const f = JSON.parse(line.slice("figures: ".length)) as SoakFigures;
  assert.ok(f.requests >= 20_000, `${f.requests} requests`);
  assert.equal(f.lost, 0, out.slice(-3000));
  assert.equal(f.misordered, 0, out.slice(-3000));
  assert.equal(f.errors, 0, out.slice(-3000));
  assert.equal(f.shutdown.truncated, 0);
  assert.equal(f.shutdown.received, f.shutdown.handled, "shutdown lost no response the app produced");
  assert.equal(f.shutdown.exit, 0);
});

// On Node with glibc the memory criterion is judged after malloc_trim(0) (gdb), since glibc keeps freed
// heap pages (docs/soak.md); without gdb the soak says so and judges the rest.
test("hardening: quick soak: memory, descriptors and temporary files back to baseline (verdict PASS)", {
  skip: onNode ? false : "the quick soak runs under Node only (time budget)",
}, async () => {
  const { code, out } = await runQuickSoak();
  assert.match(out, /verdict: PASS/, out.slice(-3000));
  assert.equal(code, 0);
  const line = out.split("\n").find((l) => l.startsWith("figures: "));
  const f = JSON.parse(line!.slice("figures: ".length)) as { rssJudged: string | null };
  if (f.rssJudged === null) assert.match(out, /RSS not judged: Node on glibc needs gdb/);
  else assert.equal(f.rssJudged, "after malloc_trim(0)");
});

test("hardening: a client that pipelines without reading gets its requests served only as it takes the responses", async () => {
  // Each request is small and each response 64 KiB: unchecked, 2,000 of them would pile 125 MiB into a temporary file.
  const N = 2000;
  const payload = new Uint8Array(65536).fill(120);
  let served = 0;
  const s = await startServer(() => {
    served++;
    return new Response(payload);
  }, { outbufHighWatermark: 1048576 });
  const socket = connect(s.port, "127.0.0.1");
  try {
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    socket.pause(); // read nothing yet
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(N));
    await sleep(1000);
    // Output waiting is bounded by outbufHighWatermark (1 MiB here) plus what the kernel buffers hold (a few MiB).
    assert.ok(served < N / 4, `served ${served} of ${N} while the client read nothing`);
    let received = 0;
    socket.on("data", (d: Uint8Array) => received += d.length);
    socket.resume();
    const perResponse = 65536 + 256; // body and a head of 100-odd bytes
    await withTimeout(
      (async () => {
        while (served < N || received < N * 65536) await sleep(20);
      })(),
      20_000,
      "every response once the client reads",
    );
    assert.equal(served, N);
    assert.ok(received >= N * 65536 && received < N * perResponse + 10_000, `received ${received}`);
  } finally {
    socket.destroy();
    await s.stop();
  }
});
