/**
 * Unit tests of the task (lib/task.ts with incoming.ts, response_writer.ts
 * and response_head.ts) after waitress's tests/test_task.py: the framing
 * decisions (Content-Length, chunked, close), the head the engine writes,
 * bodies longer or shorter than declared, error responses, the request the
 * application sees, and the slot and `info.completed` lifecycle. The task
 * runs against its own seam: a TaskChannel written here over a real Output on
 * the in-memory Connection, so what it tells its channel is visible.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveAdjustments } from "../lib/adjustments.ts";
import type { ServeOptions } from "../lib/option_table.ts";
import { InputBuffer } from "../lib/buffers.ts";
import { Dispatcher } from "../lib/dispatcher.ts";
import { Output } from "../lib/output.ts";
import { RequestParser } from "../lib/parser.ts";
import { runTask, type Task, type TaskChannel, type TaskServer } from "../lib/task.ts";
import type { Handler } from "../lib/types.ts";
import { type PendingUpgrade, upgradeWebSocket } from "../lib/websocket/upgrade.ts";
import type { ParsedResponse } from "./support/responses.ts";
import { get, responses } from "./support/channel_harness.ts";
import { deferred, turns, until } from "./support/time.ts";
import { MemoryConnection } from "./support/memory_connection.ts";

/** A TaskChannel that records what the task tells it. */
class RecordingChannel implements TaskChannel {
  readonly conn: MemoryConnection;
  readonly output: Output;
  readonly remote = { transport: "tcp" as const, hostname: "192.0.2.7", port: 5555 };
  readonly tls = undefined;
  closeAfterResponse = false;
  started: Task | null = null;
  /** The `close` of each taskDone call. */
  done: boolean[] = [];
  destroyed = false;
  /** What switchToWebSocket was handed. */
  upgraded: { pending: PendingUpgrade; response: Response } | null = null;

  constructor(adjOptions: ServeOptions = {}) {
    this.conn = new MemoryConnection();
    const adj = resolveAdjustments(adjOptions);
    this.output = new Output(this.conn, adj.outbufOverflow, adj.outbufHighWatermark);
  }
  taskStarted(task: Task): void {
    this.started = task;
  }
  taskDone(close: boolean): void {
    this.done.push(close);
  }
  destroy(): void {
    this.destroyed = true;
    this.output.close();
  }
  switchToWebSocket(pending: PendingUpgrade, response: Response): void {
    this.upgraded = { pending, response };
  }
}

interface Run {
  channel: RecordingChannel;
  server: TaskServer & { dispatcher: Dispatcher };
  logs: string[];
  /** Waits for taskDone, then returns the one response written. */
  response(headRequest?: boolean): Promise<ParsedResponse>;
}

/** Parses `request` and runs it as a task with `handler`. */
function run(request: string, handler: Handler, options: ServeOptions = {}): Run {
  const adj = resolveAdjustments(options);
  const logs: string[] = [];
  const server = {
    adj,
    logger: {
      info: (m: string) => void logs.push(`INFO ${m}`),
      warn: (m: string) => void logs.push(`WARN ${m}`),
      error: (m: string) => void logs.push(`ERROR ${m}`),
    },
    handler,
    dispatcher: new Dispatcher(adj.threads),
    accessLog: null,
  };
  const parser = new RequestParser(adj, (expected) => new InputBuffer(adj.inbufOverflow, expected));
  parser.received(new TextEncoder().encode(request), 0);
  assert.ok(parser.completed && parser.error === null, "a complete, valid request");
  const channel = new RecordingChannel(options);
  runTask(server, channel, parser);
  return {
    channel,
    server,
    logs,
    async response(headRequest = false) {
      await until(() => channel.done.length > 0, "taskDone");
      channel.output.uncork();
      const all = parseAll(channel.conn, headRequest);
      assert.equal(all.length, 1, "one response");
      return all[0];
    },
  };
}

function parseAll(conn: MemoryConnection, headRequest: boolean): ParsedResponse[] {
  // A close-delimited body ends with the connection: the test decides that here.
  conn.closeCalled = true;
  return responses(conn, headRequest);
}

const text = (s: string) => new TextEncoder().encode(s);

/** A body of `chunks`, each after a timer (so the peek sees it is not done after the first). */
function slowBody(...chunks: string[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (i < chunks.length) controller.enqueue(text(chunks[i++]));
      else controller.close();
    },
  });
}

test("task: a body that ends with its first chunk gets a Content-Length, and the connection stays", async () => {
  const once = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(text("hello"));
        controller.close();
      },
    });
  const r = run(get("/"), () => new Response(once()));
  const res = await r.response();
  assert.equal(res.framing, "length");
  assert.equal(res.headers.get("content-length")?.[0], "5");
  assert.equal(res.headers.get("connection"), undefined);
  assert.deepEqual(r.channel.done, [false]);
});

test("task: HTTP/1.1 without a length and a body still coming is chunked", async () => {
  const r = run(get("/"), () => new Response(slowBody("ab", "cd", "ef")));
  const res = await r.response();
  assert.equal(res.framing, "chunked");
  assert.equal(res.text, "abcdef");
  assert.equal(res.headers.get("content-length"), undefined);
  assert.deepEqual(r.channel.done, [false]);
});

test("task: HTTP/1.0 keep-alive with an unknown length is close-delimited; with a length it stays open", async () => {
  const unknown = run(get("/", "Connection: keep-alive\r\n", "1.0"), () => new Response(slowBody("a", "b")));
  const u = await unknown.response();
  assert.equal(u.framing, "close");
  assert.equal(u.text, "ab");
  assert.equal(u.headers.get("connection")?.[0], "close");
  assert.deepEqual(unknown.channel.done, [true]);

  const known = run(get("/", "Connection: keep-alive\r\n", "1.0"), () => new Response("abc"));
  const k = await known.response();
  assert.equal(k.version, "1.0");
  assert.equal(k.headers.get("content-length")?.[0], "3");
  assert.equal(k.headers.get("connection")?.[0], "Keep-Alive");
  assert.deepEqual(known.channel.done, [false]);
});

test("task: Connection: close from the client, from the app, or from the channel closes after the response", async () => {
  const client = run(get("/", "Connection: close\r\n"), () => new Response("x"));
  assert.equal((await client.response()).headers.get("connection")?.[0], "close");
  assert.deepEqual(client.channel.done, [true]);

  const app = run(get("/"), () => new Response("x", { headers: { connection: "keep-alive, close" } }));
  assert.equal((await app.response()).headers.get("connection")?.[0], "close");
  assert.deepEqual(app.channel.done, [true]);

  const channel = run(get("/"), () => Promise.resolve(new Response("x")));
  channel.channel.closeAfterResponse = true; // draining, or a later request failed to parse
  assert.equal((await channel.response()).headers.get("connection")?.[0], "close");
  assert.deepEqual(channel.channel.done, [true]);
});

test("task: 204 and 304 carry no body (304 keeps its declared length); HEAD keeps the length, sends no body", async () => {
  const noContent = await run(get("/"), () => new Response(null, { status: 204 })).response();
  assert.equal(noContent.status, 204);
  assert.equal(noContent.headers.get("content-length"), undefined);
  assert.equal(noContent.headers.get("transfer-encoding"), undefined);

  const notModified = run(get("/"), () => new Response(null, { status: 304, headers: { "content-length": "10" } }));
  const nm = await notModified.response();
  assert.equal(nm.headers.get("content-length")?.[0], "10");
  assert.equal(nm.body.length, 0);
  assert.deepEqual(notModified.channel.done, [false]);

  const head = run("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", () => new Response("twelve bytes"));
  const h = await head.response(true);
  assert.equal(h.headers.get("content-length")?.[0], "12");
  assert.doesNotMatch(head.channel.conn.text(), /twelve/);
  assert.deepEqual(head.channel.done, [false]);
});

test("task: the head: hop-by-hop headers dropped, names title-cased and sorted, Date kept, Via when the app names a Server", async () => {
  const date = "Tue, 01 Jan 2030 00:00:00 GMT";
  const res = await run(get("/"), () =>
    new Response("x", {
      headers: {
        "x-zeta": "1",
        "keep-alive": "timeout=5",
        "transfer-encoding": "gzip",
        upgrade: "h2c",
        etag: '"e"',
        date,
        server: "app/1.0",
      },
    })).response();
  const names = res.rawHeaders.map(([name]) => name);
  assert.deepEqual(names, [...names].sort((a, b) => a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  assert.ok(names.includes("Etag") && names.includes("X-Zeta"), names.join(","));
  for (const hop of ["keep-alive", "transfer-encoding", "upgrade"]) assert.equal(res.headers.get(hop), undefined, hop);
  assert.deepEqual(res.headers.get("date"), [date]);
  assert.deepEqual(res.headers.get("server"), ["app/1.0"]);
  assert.deepEqual(res.headers.get("via"), ["waitress"]);
});

test("task: a body longer than its Content-Length is cut there; a shorter one is logged and closes", async () => {
  const long = run(get("/"), () => new Response(slowBody("abc", "def"), { headers: { "content-length": "4" } }));
  const l = await long.response();
  assert.equal(l.text, "abcd");
  assert.equal(long.channel.conn.text().endsWith("abcd"), true, "nothing past the declared length");
  assert.deepEqual(long.channel.done, [false]);

  const short = run(get("/short"), () => new Response(slowBody("ab"), { headers: { "content-length": "5" } }));
  await until(() => short.channel.done.length > 0, "taskDone");
  assert.deepEqual(short.channel.done, [true]);
  assert.ok(short.logs.some((m) => m === "WARN Application returned 2 of 5 declared bytes for /short"), short.logs[0]);
});

test("task: a handler that throws gets waitress's 500 (the detail only with exposeTracebacks), then close", async () => {
  const plain = run(get("/boom"), () => {
    throw new Error("kaboom");
  });
  const p = await plain.response();
  assert.equal(p.status, 500);
  assert.equal(p.headers.get("connection")?.[0], "close");
  assert.match(p.text, /^Internal Server Error\r?\n\r?\nThe server encountered an unexpected internal server error/);
  assert.doesNotMatch(p.text, /kaboom/);
  assert.ok(plain.logs.some((m) => m.startsWith("ERROR Exception while serving /boom") && m.includes("kaboom")));
  assert.deepEqual(plain.channel.done, [true]);

  const exposed = await run(get("/"), () => Promise.reject(new Error("kaboom")), { exposeTracebacks: true })
    .response();
  assert.match(exposed.text, /kaboom/);
});

test("task: what is not a Response to send (a string, Response.error(), a bad Content-Length) is a 500", async () => {
  for (
    const answer of [
      () => "text" as unknown as Response,
      () => Response.error(),
      () => new Response("x", { headers: { "content-length": "nope" } }),
    ]
  ) {
    const r = run(get("/"), answer);
    assert.equal((await r.response()).status, 500);
    assert.equal(r.logs.filter((m) => m.startsWith("ERROR")).length, 1);
  }
});

test("task: a body that fails after the head went out destroys the connection instead of a second response", async () => {
  let n = 0;
  const r = run(get("/"), () =>
    new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 2));
          if (n++ === 0) controller.enqueue(text("partial"));
          else controller.error(new Error("source broke"));
        },
      }),
    ));
  await until(() => r.channel.done.length > 0, "taskDone");
  assert.equal(r.channel.destroyed, true);
  assert.deepEqual(r.channel.done, [true]);
  assert.equal((r.channel.conn.text().match(/HTTP\/1\.1 /g) ?? []).length, 1, "one status line only");
});

test("task: the request the app sees: url prefix taken off (hit, exact, miss), slashes collapsed, absolute-form wins", async () => {
  const seen = async (request: string, options: ServeOptions = {}) => {
    let url = "";
    let prefix = "";
    const r = run(request, (req, info) => {
      url = req.url;
      prefix = info.urlPrefix;
      return new Response("");
    }, options);
    await r.response();
    return `${url} ${prefix}`;
  };
  const opts = { urlPrefix: "/app" };
  assert.equal(await seen(get("/app/x?q=1"), opts), "http://example.test/x?q=1 /app");
  assert.equal(await seen(get("/app"), opts), "http://example.test/ /app");
  assert.equal(await seen(get("/application"), opts), "http://example.test/application /app");
  assert.equal(await seen(get("//evil.example/x")), "http://example.test/evil.example/x ");
  assert.equal(
    await seen("GET http://other.example:81/p HTTP/1.1\r\nHost: example.test\r\n\r\n"),
    "http://other.example:81/p ",
  );
  assert.equal(await seen("GET /p HTTP/1.1\r\nHost:\r\n\r\n", { serverName: "me.example" }), "http://me.example/p ");
});

test("task: info.remoteAddr is the peer, or the trusted proxy's client; contradicting proxy headers are a 400", async () => {
  let remote = "";
  const app: Handler = (_req, info) => {
    remote = `${info.remoteAddr.hostname}:${info.remoteAddr.port}`;
    return new Response("");
  };
  await run(get("/"), app).response();
  assert.equal(remote, "192.0.2.7:5555");
  const proxied = { trustedProxy: "192.0.2.7", trustedProxyHeaders: ["x-forwarded-for", "x-forwarded-proto"] };
  await run(get("/", "X-Forwarded-For: 198.51.100.1\r\n"), app, proxied).response();
  assert.equal(remote, "198.51.100.1:5555");
  const bad = run(get("/", "X-Forwarded-Proto: ftp\r\n"), app, proxied);
  const b = await bad.response();
  assert.equal(b.status, 400);
  assert.match(b.text, /Header "X-Forwarded-Proto" malformed\./);
  assert.deepEqual(bad.channel.done, [true]);
  assert.equal(bad.channel.started, null, "the app was never called");
});

test("task: the slot is held until the response is produced; info.completed waits for the flush", async () => {
  const answer = deferred<Response>();
  let completed: Promise<void> | undefined;
  const r = run(get("/"), (_req, info) => {
    completed = info.completed;
    return answer.promise;
  });
  await until(() => r.channel.started !== null, "taskStarted");
  assert.equal(r.server.dispatcher.active, 1);
  let settled = false;
  void completed!.then(() => settled = true);
  r.channel.conn.full = true; // the client is not reading: the response stays in the output
  answer.resolve(new Response("x".repeat(100)));
  await until(() => r.channel.done.length > 0, "taskDone");
  assert.equal(r.server.dispatcher.active, 0, "the slot is free once the response is produced");
  r.channel.output.write(new Uint8Array(10)); // more output behind it, still not flushed
  await turns();
  assert.equal(settled, false, "not complete while the output waits");
  r.channel.conn.drain();
  r.channel.output.drained();
  await until(() => settled, "info.completed resolved after the flush");
});

test("task: a lost connection frees the slot and aborts the request; an answer after it is dropped", async () => {
  let signal: AbortSignal | undefined;
  const answer = deferred<Response>();
  const r = run(get("/wait"), (req) => {
    signal = req.signal;
    return answer.promise;
  });
  await until(() => r.channel.started !== null, "taskStarted");
  r.channel.output.close();
  r.channel.started!.connectionLost(new Error("gone"));
  assert.equal(signal!.aborted, true);
  assert.equal(r.server.dispatcher.active, 0);
  assert.deepEqual(r.logs, ["INFO Client disconnected while serving /wait"]);
  assert.deepEqual(r.channel.done, [], "the response is still the app's to give");
  let cancelled = false;
  answer.resolve(new Response(new ReadableStream({ cancel: () => void (cancelled = true) })));
  await until(() => r.channel.done.length > 0, "taskDone");
  assert.deepEqual(r.channel.done, [true]);
  assert.equal(cancelled, true, "the late body is cancelled");
  assert.equal(r.channel.conn.written.length, 0);
  assert.equal(r.server.dispatcher.active, 0, "the slot was given back once");
});

const UPGRADE = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

test("task: a returned upgrade response hands the connection over, frees the slot and writes nothing itself", async () => {
  const r = run(UPGRADE, (request) => upgradeWebSocket(request).response, { threads: 1 });
  await until(() => r.channel.done.length === 1, "taskDone");
  assert.deepEqual(r.channel.done, [false]);
  assert.ok(r.channel.upgraded !== null);
  assert.equal(r.channel.upgraded.pending.response, r.channel.upgraded.response);
  assert.equal(r.channel.conn.text(), "", "the channel writes the 101, not the task");
  assert.equal(r.server.dispatcher.active, 0);
});

test("task: a bad handshake escaping the handler is a 400, a wrong version 426 naming 13, neither logged as an error", async () => {
  const bad = run(UPGRADE.replace("Connection: Upgrade", "Connection: keep-alive"), (request) => {
    return upgradeWebSocket(request).response;
  });
  assert.equal((await bad.response()).status, 400);
  const version = run(UPGRADE.replace("Version: 13", "Version: 8"), (request) => upgradeWebSocket(request).response);
  const answer = await version.response();
  assert.equal(answer.status, 426);
  assert.deepEqual(answer.headers.get("sec-websocket-version"), ["13"]);
  assert.ok(![...bad.logs, ...version.logs].some((l) => l.startsWith("ERROR")));
});

test("task: an accepted upgrade whose handler returns another response sends that one and abandons the socket", async () => {
  let closeCode = 0;
  const r = run(UPGRADE, (request) => {
    const { socket } = upgradeWebSocket(request);
    socket.onclose = (e) => (closeCode = e.code);
    return new Response("no");
  });
  assert.equal((await r.response()).status, 200);
  assert.equal(r.channel.upgraded, null);
  assert.equal(closeCode, 1006);
});
