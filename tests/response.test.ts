import { test } from "node:test";
import assert from "node:assert/strict";
import { FastResponse } from "../mod.ts";
import { headerOrder } from "../lib/response_head.ts";
import { currentHttpDate, httpDate } from "../lib/utilities.ts";
import { exchange, RawClient } from "./support/raw_client.ts";
import { startServer } from "./support/server.ts";

test("response: FastResponse behaves as a Response", async () => {
  const r = new FastResponse("héllo", { status: 201, statusText: "Made", headers: { "x-a": "1" } });
  assert.ok(r instanceof Response);
  assert.equal(r.status, 201);
  assert.equal(r.statusText, "Made");
  assert.equal(r.ok, true);
  assert.equal(r.headers.get("x-a"), "1");
  assert.equal(r.headers.get("content-type"), "text/plain;charset=UTF-8");
  assert.equal(await r.clone().text(), "héllo");
  assert.equal(await r.text(), "héllo");
  assert.equal(r.bodyUsed, true);
  const j = FastResponse.json({ a: [1] }, { status: 202 });
  assert.equal(j.headers.get("content-type"), "application/json");
  assert.deepEqual(await j.json(), { a: [1] });
  assert.throws(() => new FastResponse("x", { status: 99 }), RangeError);
  assert.equal(await new FastResponse(new Uint8Array([104, 105])).text(), "hi");
  assert.equal(new FastResponse(null).body, null);
});

test("response: FastResponse is written without a stream, with the same bytes as Response", async () => {
  const s = await startServer((req) => {
    const p = new URL(req.url).pathname;
    const init = { headers: { "x-k": "v", "set-cookie": "a=1" } };
    if (p === "/fast") return new FastResponse("same body", init);
    if (p === "/fast-bytes") return new FastResponse(new TextEncoder().encode("same body"), init);
    if (p === "/fast-short") return new FastResponse("abc", { headers: { "content-length": "10" } });
    if (p === "/fast-long") return new FastResponse("abcdef", { headers: { "content-length": "2" } });
    if (p === "/fast-stream") {
      return new FastResponse(new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array([65])), c.close()) }));
    }
    return new Response("same body", init);
  });
  try {
    const strip = (t: string) => t.replace(/Date: [^\r]+/, "Date: -");
    const [real] = await exchange(s.port, "GET /real HTTP/1.1\r\nHost: x\r\n\r\n");
    const [fast] = await exchange(s.port, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    // Bun's own Response keeps the Content-Type implied by a string body out of `headers` (Bun.serve adds it
    // when sending), so compare the rest; FastResponse carries it on every runtime.
    const lines = (r: typeof real) =>
      r.rawHeaders.filter(([n]) => n !== "Content-Type").map(([n, v]) => strip(`${n}: ${v}`));
    assert.deepEqual(lines(fast), lines(real));
    assert.deepEqual(fast.headers.get("content-type"), ["text/plain;charset=UTF-8"]);
    assert.equal(fast.text, "same body");
    const [bytes] = await exchange(s.port, "GET /fast-bytes HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(bytes.text, "same body");
    assert.equal(bytes.headers.get("content-type"), undefined);
    const [long] = await exchange(s.port, "GET /fast-long HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(long.text, "ab");
    const [stream] = await exchange(s.port, "GET /fast-stream HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(stream.text, "A");
    const c = await RawClient.open(s.port);
    c.send("HEAD /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    const [head] = await c.responses(1, 5000, true);
    assert.equal(head.headers.get("content-length")?.[0], "9");
    c.destroy();
  } finally {
    await s.stop();
  }
});

test("response: a latin-1 header value goes out as one byte per character", async () => {
  const s = await startServer(() => new Response("ok", { headers: { "x-word": "caf\u00e9" } }));
  try {
    const c = await RawClient.open(s.port);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const [r] = await c.responses(1);
    assert.equal(r.headers.get("x-word")?.[0], "caf\u00e9");
    assert.equal(r.text, "ok", "the body right after a non-ASCII head is intact");
    const bytes = [...c.received];
    assert.ok(bytes.includes(0xe9) && !bytes.includes(0xc3), "latin-1, not UTF-8");
    c.destroy();
  } finally {
    await s.stop();
  }
});

test("response: header lines are sorted by name, stably (repeated names keep their order), at every count", () => {
  // A fixed pseudo-random sequence: names from a small set, so that repeats are common.
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  const names = ["set-cookie", "x-b", "content-type", "date", "x-a", "vary", "a", "server"];
  for (let n = 0; n <= 40; n++) {
    const flat: string[] = [];
    for (let i = 0; i < n; i++) flat.push(names[next() % names.length], `v${i}`);
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
    // Reference: a stable sort by name (Array.prototype.sort is stable).
    const expected = pairs.toSorted((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const order = headerOrder(flat).slice(0, n);
    assert.equal(order.length, n);
    order.forEach((pair, i) => {
      assert.equal(flat[pair * 2], expected[i][0], `${n} headers, line ${i}`);
      assert.equal(flat[pair * 2 + 1], expected[i][1], `${n} headers, line ${i}: repeated names keep their order`);
    });
  }
});

test("response: FastResponse answers textStream() wherever the runtime's Response has it", async () => {
  const real = new Response("héllo");
  const fast = new FastResponse("héllo");
  if (typeof (real as unknown as { textStream?: unknown }).textStream !== "function") {
    // Node's Response has no textStream(): neither has a FastResponse.
    assert.throws(() => fast.textStream(), TypeError);
    return;
  }
  let text = "";
  for await (const piece of fast.textStream() as unknown as AsyncIterable<string>) text += piece;
  assert.equal(text, "héllo");
});

test("response: every method and getter of the runtime's Response acts on a FastResponse, none inherited as is", () => {
  const fast = new FastResponse("body", { status: 201, headers: { "x-a": "1" } });
  const real = new Response("body", { status: 201, headers: { "x-a": "1" } });
  for (const key of Object.getOwnPropertyNames(Response.prototype)) {
    if (key === "constructor") continue;
    const d = Object.getOwnPropertyDescriptor(Response.prototype, key)!;
    if (typeof d.value !== "function" && d.get === undefined) continue;
    // Inherited, it would fail Response's own check that `this` is a real Response.
    assert.ok(Object.hasOwn(FastResponse.prototype, key), `FastResponse.prototype.${key}`);
    if (d.get !== undefined && key !== "body") {
      const a = (fast as unknown as Record<string, unknown>)[key];
      const b = (real as unknown as Record<string, unknown>)[key];
      if (typeof b !== "object" || b === null) assert.equal(a, b, key);
    }
  }
});

test("response: FastResponse has Response's static redirect() and error()", () => {
  const r = FastResponse.redirect("http://example.com/next", 301);
  assert.ok(r instanceof Response);
  assert.equal(r.status, 301);
  assert.equal(r.headers.get("location"), "http://example.com/next");
  assert.throws(() => FastResponse.redirect("http://example.com/", 200), RangeError);
  assert.equal(FastResponse.error().type, "error");
});

test("response: FastResponse takes the real Response's Content-Type for Blob, FormData and URLSearchParams bodies", async () => {
  const form = new FormData();
  form.set("a", "1");
  const bodies: (() => BodyInit)[] = [
    () => new Blob(["blob"], { type: "x/y" }),
    () => new URLSearchParams({ a: "1 2" }),
    () => form,
  ];
  for (const make of bodies) {
    const fast = new FastResponse(make());
    const real = new Response(make());
    const type = real.headers.get("content-type");
    assert.ok(type !== null);
    // FormData boundaries differ per Response: compare up to the boundary.
    assert.equal(fast.headers.get("content-type")?.split("boundary=")[0], type.split("boundary=")[0]);
    assert.equal((await fast.text()).length > 0, true);
  }
});

test("response: FastResponse fails where Response fails (a body on 204, 205 or 304), and on a bad status text", () => {
  const attempts: [BodyInit | null, ResponseInit][] = [
    ["body", { status: 204 }],
    ["body", { status: 205 }],
    ["body", { status: 304 }],
    [null, { status: 204 }],
    ["x", { statusText: "Fine" }],
  ];
  for (const [body, init] of attempts) {
    let realThrew = false;
    try {
      new Response(body, init);
    } catch {
      realThrew = true;
    }
    let fastThrew = false;
    try {
      new FastResponse(body, init);
    } catch {
      fastThrew = true;
    }
    assert.equal(fastThrew, realThrew, JSON.stringify([body, init]));
  }
  // Refused on every runtime, though Bun's own Response takes it: it would end up in the status line.
  assert.throws(() => new FastResponse("x", { statusText: "OK\r\nX-Injected: 1" }), TypeError);
});

test("response: FastResponse headers read without a Headers object give the bytes the Headers object gives", async () => {
  const nullProto = Object.assign(Object.create(null), { "x-a": "1" }) as Record<string, string>;
  const cases: [BodyInit | null, HeadersInit | undefined][] = [
    ["abc", undefined],
    ["abc", { "X-A": "1", "x-b": "two words", "x-tab": "a\tb" }],
    ["abc", [["x-a", "1"], ["X-A", "2"]]],
    ["abc", { "X-A": "1", "x-a": "2" }],
    ["abc", [["set-cookie", "a=1"], ["set-cookie", "b=2"]]],
    ["abc", { "x-pad": "  v  " }],
    ["abc", { "x-n": 5 } as unknown as HeadersInit],
    ["abc", { "bad name": "v" }],
    ["abc", { "x-crlf": "a\r\nb" }],
    ["abc", { "x-u": "\u0100" }],
    ["abc", new Headers({ "x-h": "1" })],
    ["abc", new Headers({ "content-type": "text/html" })],
    ["abc", nullProto],
    ["abc", new Map([["x-m", "1"]]) as unknown as HeadersInit],
    ["abc", { "content-type": "text/html", "content-length": "3" }],
    ["abc", [["content-length", "3"], ["Content-Length", "3"]]],
    ["h\u00e9llo", { "x-word": "caf\u00e9" }],
    [new Uint8Array([104, 105]), { "Content-Type": "x/y" }],
    [null, { "x-a": "1" }],
    ["x".repeat(2000), { "x-a": "1" }],
  ];
  const s = await startServer((req) => {
    const [, kind, index] = new URL(req.url).pathname.split("/");
    const [body, headers] = cases[Number(index)];
    if (kind === "real") return new Response(body, { headers });
    const fast = new FastResponse(body, { headers });
    // Reading `headers` first makes the engine take the Headers object the getter builds.
    if (kind === "touched") void fast.headers;
    return fast;
  });
  try {
    const view = async (kind: string, i: number, dropType: boolean) => {
      const [r] = await exchange(s.port, `GET /${kind}/${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const lines = r.rawHeaders.filter(([n]) => !dropType || n !== "Content-Type");
      return { status: r.status, lines: lines.map(([n, v]) => n === "Date" ? "Date" : `${n}: ${v}`), text: r.text };
    };
    for (let i = 0; i < cases.length; i++) {
      const fast = await view("fast", i, false);
      assert.deepEqual(fast, await view("touched", i, false), `case ${i}`);
      // Bun's own Response keeps the Content-Type a string body implies out of `headers`: compare the rest.
      const real = await view("real", i, true);
      assert.deepEqual({ ...fast, lines: fast.lines.filter((l) => !l.startsWith("Content-Type:")) }, {
        ...real,
        lines: real.lines.filter((l) => !l.startsWith("Content-Type:")),
      }, `case ${i} against Response`);
    }
  } finally {
    await s.stop();
  }
});

test("response: the cached Date value follows the clock from one second to the next", async () => {
  // The clock's second, or the one before it when the cache's timer ran late (a loaded machine).
  const fresh = (value: string) => {
    const now = Date.now();
    return value === httpDate(now) || value === httpDate(now - 1000);
  };
  const first = currentHttpDate();
  assert.ok(fresh(first), first);
  const deadline = Date.now() + 5000;
  while (currentHttpDate() === first && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const second = currentHttpDate();
  assert.notEqual(second, first, "a new second, a new value");
  assert.ok(fresh(second), second);
});
