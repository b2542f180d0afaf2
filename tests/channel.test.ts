/**
 * Unit tests of the channel (lib/channel.ts, lib/output.ts) on the in-memory
 * Connection, after waitress's tests/test_channel.py: pipelining order,
 * reading and serving paused while output waits, congestion and resume, the
 * connection lost mid-request and mid-response, slot release, half-close,
 * shutdown, parse errors, 100-continue, and the idle sweep's decision.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { get, HarnessServer, responses } from "./support/channel_harness.ts";
import { deferred, turns, until } from "./support/time.ts";

const hello = (): Response => new Response("hello");

test("channel: answers a request and keeps the connection for the next", async () => {
  const server = new HarnessServer(hello);
  const { conn, channel } = server.open();
  conn.send(get("/"));
  await until(() => responses(conn).length === 1, "the response");
  const [r] = responses(conn);
  assert.equal(r.status, 200);
  assert.equal(r.text, "hello");
  assert.equal(r.headers.get("connection"), undefined);
  assert.equal(channel.busy, false);
  assert.equal(server.dispatcher.active, 0);
  conn.send(get("/again"));
  await until(() => responses(conn).length === 2, "the second response");
  assert.equal(conn.closeCalled || conn.destroyed, false);
});

test("channel: pipelined requests are served one at a time and answered in order", async () => {
  const calls: string[] = [];
  const pending = new Map<string, ReturnType<typeof deferred<Response>>>();
  const server = new HarnessServer((request) => {
    const path = new URL(request.url).pathname;
    calls.push(path);
    const d = deferred<Response>();
    pending.set(path, d);
    return d.promise;
  });
  const { conn } = server.open();
  conn.send(get("/a") + get("/b") + get("/c"));
  await turns();
  assert.deepEqual(calls, ["/a"], "the next request waits for the response before it");
  pending.get("/a")!.resolve(new Response("A"));
  await until(() => calls.length === 2, "/b started");
  // /c is answered before /b: its response still goes out after /b's.
  pending.get("/b")!.resolve(new Response("B", { headers: { "x-slow": "1" } }));
  await until(() => calls.length === 3, "/c started");
  pending.get("/c")!.resolve(new Response("C"));
  await until(() => responses(conn).length === 3, "three responses");
  assert.deepEqual(responses(conn).map((r) => r.text), ["A", "B", "C"]);
});

test("channel: small pipelined responses are batched into fewer writes", async () => {
  const server = new HarnessServer(hello);
  const { conn } = server.open();
  conn.send(get("/1") + get("/2") + get("/3") + get("/4"));
  await until(() => responses(conn).length === 4, "four responses");
  assert.ok(conn.written.length < 4, `${conn.written.length} writes for 4 responses`);
});

test("channel: reading and serving stop while responses wait for a client that does not read, and resume", async () => {
  const served: string[] = [];
  const server = new HarnessServer((request) => {
    served.push(new URL(request.url).pathname);
    return new Response("x".repeat(2000));
  }, { outbufHighWatermark: 4096 });
  const { conn } = server.open();
  conn.full = true; // the client is not reading
  let batch = "";
  for (let i = 0; i < 40; i++) batch += get(`/${i}`);
  conn.send(batch);
  await turns(20);
  // Pausing is lazy: one read beyond what is being served is taken, the next one waits with the peer.
  conn.send(get("/late"));
  await turns(20);
  conn.send(get("/later"));
  await turns(20);
  assert.equal(conn.paused, true, "no more reading while output waits");
  assert.ok(conn.heldBytes > 0, "the last request stays with the peer");
  assert.ok(served.length < 40, `served ${served.length} of 40 while the client read nothing`);
  for (let i = 0; i < 200 && responses(conn).length < 42; i++) {
    conn.drain();
    await turns(2);
  }
  const all = responses(conn);
  assert.equal(all.length, 42);
  assert.deepEqual(served, [...Array.from({ length: 40 }, (_, i) => `/${i}`), "/late", "/later"]);
  assert.equal(conn.paused, false);
});

test("channel: a streamed body waits for room while the connection is congested, then completes", async () => {
  let pulls = 0;
  const chunk = new Uint8Array(1024).fill(120);
  const server = new HarnessServer(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (++pulls > 64) controller.close();
          else controller.enqueue(chunk);
        },
      }),
    ), { outbufHighWatermark: 4096 });
  const { conn } = server.open({ gathersWrites: false });
  conn.full = true;
  conn.send(get("/stream"));
  await turns(30);
  const stalled = pulls;
  assert.ok(stalled < 20, `${stalled} chunks pulled while nothing drained`);
  await turns(10);
  assert.equal(pulls, stalled, "no progress without room");
  for (let i = 0; i < 200 && responses(conn).length === 0; i++) {
    conn.drain();
    conn.full = true;
    await turns(2);
  }
  const [r] = responses(conn);
  assert.equal(r.framing, "chunked");
  assert.equal(r.body.length, 64 * 1024);
});

test("channel: the connection lost mid-request aborts the request, rejects info.completed, gives the slot back", async () => {
  let signal: AbortSignal | undefined;
  let completed: Promise<void> | undefined;
  const server = new HarnessServer((request, info) => {
    signal = request.signal;
    completed = info.completed;
    return new Promise<Response>(() => {}); // never answers
  });
  const { conn, channel } = server.open();
  conn.send(get("/hang"));
  await until(() => signal !== undefined, "the app called");
  assert.equal(server.dispatcher.active, 1);
  conn.reset();
  assert.equal(signal!.aborted, true);
  await assert.rejects(completed!);
  assert.equal(server.dispatcher.active, 0, "the slot is free although the app never answered");
  assert.deepEqual(server.closedChannels, [channel]);
  assert.equal(channel.closed, true);
  assert.equal(conn.written.length, 0);
  assert.ok(server.logs.some((l) => l.startsWith("INFO Client disconnected while serving /hang")));
});

test("channel: the connection lost mid-response aborts the request, frees the slot, and cancels the body", async () => {
  let cancelled: unknown = "not cancelled";
  let completed: Promise<void> | undefined;
  let signal: AbortSignal | undefined;
  const second = deferred<void>();
  const server = new HarnessServer((request, info) => {
    completed = info.completed;
    signal = request.signal;
    let sent = false;
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent) await second.promise; // the next event comes when the test says
          controller.enqueue(new TextEncoder().encode(sent ? "second" : "first"));
          sent = true;
        },
        cancel(reason) {
          cancelled = reason;
        },
      }),
    );
  });
  const { conn } = server.open();
  conn.send(get("/events"));
  await until(() => conn.text().includes("first"), "the first chunk");
  assert.match(conn.text(), /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(server.dispatcher.active, 1);
  conn.reset();
  assert.equal(signal!.aborted, true, "the app hears of it at once (request.signal)");
  assert.equal(server.dispatcher.active, 0);
  await assert.rejects(completed!);
  // The writer sees the loss when the body's next chunk arrives: the stream is cancelled, nothing more written.
  const before = conn.written.length;
  second.resolve();
  await until(() => cancelled !== "not cancelled", "the stream cancelled");
  assert.equal(conn.written.length, before);
  assert.doesNotMatch(conn.text(), /second/);
});

test("channel: a slot freed by a lost connection passes to the request waiting for it; a lost waiter never runs", async () => {
  const calls: string[] = [];
  const server = new HarnessServer((request) => {
    const path = new URL(request.url).pathname;
    calls.push(path);
    return path === "/hang" ? new Promise<Response>(() => {}) : new Response(path);
  }, { threads: 1 });
  const a = server.open();
  const b = server.open();
  const c = server.open();
  a.conn.send(get("/hang"));
  b.conn.send(get("/gone"));
  c.conn.send(get("/next"));
  await turns();
  assert.deepEqual(calls, ["/hang"]);
  assert.equal(server.dispatcher.queued, 2);
  b.conn.reset(); // waitress's client_disconnected before its task ran
  a.conn.reset();
  await until(() => responses(c.conn).length === 1, "the waiting request served");
  assert.deepEqual(calls, ["/hang", "/next"], "the lost request's app was never called");
  assert.equal(responses(c.conn)[0].text, "/next");
  assert.equal(server.dispatcher.active, 0);
  assert.equal(server.dispatcher.queued, 0);
});

test("channel: the peer's FIN mid-request (no lookahead) still gets the response, then the connection closes", async () => {
  const answer = deferred<Response>();
  let signal: AbortSignal | undefined;
  const server = new HarnessServer((request) => {
    signal = request.signal;
    return answer.promise;
  });
  const { conn } = server.open();
  conn.send(get("/"));
  await until(() => signal !== undefined, "the app called");
  conn.end();
  await turns();
  assert.equal(signal!.aborted, false, "a half-close is not a disconnect");
  answer.resolve(new Response("late"));
  await until(() => conn.closeCalled, "closed after the response");
  const [r] = responses(conn);
  assert.equal(r.text, "late");
  assert.equal(r.headers.get("connection")?.[0], "close");
});

test("channel: with channelRequestLookahead the peer's FIN aborts the request in flight", async () => {
  let signal: AbortSignal | undefined;
  const server = new HarnessServer((request) => {
    signal = request.signal;
    return new Promise<Response>(() => {});
  }, { channelRequestLookahead: 2 });
  const { conn } = server.open();
  conn.send(get("/sleep"));
  await until(() => signal !== undefined, "the app called");
  conn.end();
  assert.equal(signal!.aborted, true);
  assert.equal(server.dispatcher.active, 0);
});

test("channel: a graceful shutdown lets the request in flight finish with Connection: close; an idle channel closes", async () => {
  const answer = deferred<Response>();
  const server = new HarnessServer(() => answer.promise);
  const busy = server.open();
  const idle = server.open();
  busy.conn.send(get("/"));
  await until(() => busy.channel.busy && server.dispatcher.active === 1, "in flight");
  server.draining = true;
  idle.channel.closeWhenFlushed(); // what the server does to channels that are not busy
  await until(() => idle.conn.closed, "the idle channel closed");
  assert.equal(busy.conn.closeCalled, false);
  answer.resolve(new Response("done"));
  await until(() => busy.conn.closed, "the busy channel closed after its response");
  const [r] = responses(busy.conn);
  assert.equal(r.text, "done");
  assert.equal(r.headers.get("connection")?.[0], "close");
  assert.equal(server.closedChannels.length, 2);
});

test("channel: a bad request is answered with 400 and nothing after it is parsed or served", async () => {
  const calls: string[] = [];
  const server = new HarnessServer((request) => {
    calls.push(new URL(request.url).pathname);
    return new Response("ok");
  });
  const bad = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n";
  const first = server.open();
  first.conn.send(bad + get("/after"));
  await until(() => first.conn.closed, "closed after the 400");
  const [r] = responses(first.conn);
  assert.equal(r.status, 400);
  assert.equal(r.headers.get("connection")?.[0], "close");
  assert.deepEqual(calls, [], "the request after the bad one is never served");
  // Behind a good request, the bad one is answered in its turn (as waitress answers it), and only its
  // answer announces the close; what follows it is neither parsed nor served.
  const second = server.open();
  second.conn.send(get("/a") + bad + get("/c"));
  await until(() => second.conn.closed, "closed");
  const answers = responses(second.conn);
  assert.deepEqual(answers.map((x) => x.status), [200, 400]);
  assert.deepEqual(answers.map((x) => x.headers.get("connection")?.[0]), [undefined, "close"]);
  assert.deepEqual(calls, ["/a"]);
});

test("channel: 100 Continue goes out once the head is in, after any earlier response still due", async () => {
  const first = deferred<Response>();
  const bodies: string[] = [];
  const server = new HarnessServer(async (request) => {
    const body = await request.text();
    bodies.push(body);
    return body === "1" ? first.promise : new Response(`got ${body}`);
  });
  const { conn } = server.open();
  const post = (expect: boolean) =>
    `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n${expect ? "Expect: 100-continue\r\n" : ""}\r\n`;
  conn.send(post(false) + "1" + post(true));
  await until(() => bodies.length === 1, "the first request read");
  await turns();
  assert.doesNotMatch(conn.text(), /100 Continue/, "not before the first response");
  first.resolve(new Response("first"));
  await until(() => conn.text().includes("100 Continue"), "100 Continue");
  assert.ok(conn.text().indexOf("first") < conn.text().indexOf("100 Continue"));
  conn.send("2");
  await until(() => responses(conn).filter((r) => r.status === 200).length === 2, "the second response");
  assert.deepEqual(
    responses(conn).map((r) => `${r.status} ${r.text}`),
    ["200 first", "100 ", "200 got 2"],
  );
});

test("channel: the sweep's decision (expired): idle, a head trickled in, and a busy channel only when stuck", async () => {
  const answer = deferred<Response>();
  const server = new HarnessServer(() => answer.promise, { outbufHighWatermark: 1 });
  const { conn, channel } = server.open();
  const now = Date.now();
  assert.equal(channel.expired(now, 1000), false);
  assert.equal(channel.expired(now + 1001, 1000), true, "idle past channelTimeout");
  conn.send("GET / HTTP/1.1\r\n");
  const later = Date.now();
  conn.send("X-Trickle: 1\r\n"); // activity, but the head is still not complete
  assert.equal(channel.expired(later + 500, 1000), false);
  assert.equal(channel.expired(later + 1001, 1000), true, "a head incomplete channelTimeout after its first byte");
  conn.send("Host: x\r\n\r\n");
  await until(() => channel.busy && server.dispatcher.active === 1, "in flight");
  assert.equal(channel.expired(Date.now() + 5000, 1000), false, "busy and not stuck");
  conn.full = true;
  answer.resolve(new Response("x".repeat(100)));
  await until(() => conn.written.length > 0, "the response written");
  assert.equal(channel.expired(Date.now() + 5000, 1000), true, "busy, but its reader stopped reading");
});

test("channel: destroy() drops pending output and lets go of the slot and the connection at once", async () => {
  const server = new HarnessServer(() => new Response("x".repeat(50_000)), { outbufHighWatermark: 1024 });
  const { conn, channel } = server.open();
  conn.full = true;
  conn.send(get("/") + get("/queued"));
  await until(() => conn.written.length > 0, "something written");
  channel.destroy();
  assert.equal(conn.destroyed, true);
  assert.equal(channel.closed, true);
  assert.deepEqual(server.closedChannels, [channel]);
  await turns();
  assert.equal(server.dispatcher.active, 0);
  assert.equal(server.closedChannels.length, 1, "closed once, though the socket reports its close later");
});
