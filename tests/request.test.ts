import { test } from "node:test";
import assert from "node:assert/strict";
import { InputBuffer } from "../lib/buffers.ts";
import { abortServerRequest, ServerRequest } from "../lib/request.ts";

function body(text: string): InputBuffer {
  const b = new InputBuffer(1024);
  b.append(new TextEncoder().encode(text));
  return b;
}

test("request: is a Request with lazy url, method and headers", () => {
  const r = new ServerRequest("GET", "http://h/x?y=1", ["x-a", "1", "x-a", "2", "host", "h"], null);
  assert.ok(r instanceof Request);
  assert.equal(Object.prototype.toString.call(r), "[object Request]");
  assert.equal(r.method, "GET");
  assert.equal(r.url, "http://h/x?y=1");
  assert.equal(r.headers.get("x-a"), "1, 2");
  assert.equal(r.body, null);
  assert.equal(r.bodyUsed, false);
  assert.equal(r.signal.aborted, false);
});

test("request: a GET body is readable (waitress hands every body to the app)", async () => {
  const r = new ServerRequest("GET", "http://h/", [], body("payload"));
  assert.ok(r.body instanceof ReadableStream);
  assert.equal(await r.clone().text(), "payload");
  assert.equal(await r.text(), "payload");
  assert.equal(r.bodyUsed, true);
  await assert.rejects(r.text(), TypeError);
});

test("request: json, formData, blob and arrayBuffer", async () => {
  const j = new ServerRequest("POST", "http://h/", [], body('{"a":1}'));
  assert.deepEqual(await j.json(), { a: 1 });
  const f = new ServerRequest(
    "POST",
    "http://h/",
    ["content-type", "application/x-www-form-urlencoded"],
    body("a=1&b=x"),
  );
  const form = await f.formData();
  assert.equal(form.get("b"), "x");
  const b = new ServerRequest("POST", "http://h/", ["content-type", "text/plain"], body("blob"));
  const blob = await b.blob();
  assert.match(blob.type, /^text\/plain/); // Bun adds ";charset=utf-8"
  assert.equal(await blob.text(), "blob");
  const a = new ServerRequest("POST", "http://h/", [], body("abc"));
  assert.equal((await a.arrayBuffer()).byteLength, 3);
});

test("request: the body stream reads the whole body", async () => {
  const r = new ServerRequest("PUT", "http://h/", [], body("streamed"));
  let text = "";
  for await (const chunk of r.body as ReadableStream<Uint8Array>) text += new TextDecoder().decode(chunk);
  assert.equal(text, "streamed");
  assert.equal(r.bodyUsed, true);
});

test("request: the signal aborts when the engine says the client left, even if taken later", () => {
  const early = new ServerRequest("GET", "http://h/", [], null);
  const s = early.signal;
  abortServerRequest(early, new Error("gone"));
  assert.equal(s.aborted, true);
  const late = new ServerRequest("GET", "http://h/", [], null);
  abortServerRequest(late, new Error("gone"));
  assert.equal(late.signal.aborted, true);
});

test("request: a real Request can be built from it for forwarding", async () => {
  const r = new ServerRequest("POST", "http://h/p", ["content-type", "text/plain"], body("fwd"));
  const real = new Request("http://upstream/p", r as unknown as Request);
  assert.equal(real.method, "POST");
  assert.equal(real.headers.get("content-type"), "text/plain");
  assert.equal(await real.text(), "fwd");
});

test("request: a clone's body is independent of what the original's reader does with its bytes", async () => {
  const text = "announced length body";
  const b = new InputBuffer(1024, text.length);
  b.append(new TextEncoder().encode(text));
  const r = new ServerRequest("POST", "http://h/", ["content-length", String(text.length)], b);
  const c = r.clone();
  const mine = await r.bytes();
  mine.fill(0);
  assert.equal(await c.text(), text);
});

test("request: textStream() decodes the body as UTF-8 text, as Deno's and Bun's Request does", async () => {
  const r = new ServerRequest("POST", "http://h/", [], body("h\u00e9llo \u{1f600}"));
  let text = "";
  for await (const piece of r.textStream() as unknown as AsyncIterable<string>) text += piece;
  assert.equal(text, "h\u00e9llo \u{1f600}");
  assert.equal(r.bodyUsed, true);
  const none = new ServerRequest("GET", "http://h/", [], null);
  const reader = none.textStream().getReader();
  assert.equal((await reader.read()).done, true);
  const used = new ServerRequest("POST", "http://h/", [], body("x"));
  await used.text();
  assert.throws(() => used.textStream(), TypeError);
});

test("request: every method and getter of the runtime's Request is its own, none inherited as is", () => {
  // Inherited, a member would fail Request's own check that `this` is a real Request. This fails when a runtime
  // release adds a member to Request, so that it gets added here too.
  for (const key of Object.getOwnPropertyNames(Request.prototype)) {
    if (key === "constructor") continue;
    const d = Object.getOwnPropertyDescriptor(Request.prototype, key)!;
    if (typeof d.value !== "function" && d.get === undefined) continue;
    assert.ok(Object.hasOwn(ServerRequest.prototype, key), `ServerRequest.prototype.${key}`);
  }
  const r = new ServerRequest("GET", "http://h/", [], null);
  assert.equal((r as unknown as { isReloadNavigation: boolean }).isReloadNavigation, false);
  assert.equal((r as unknown as { isHistoryNavigation: boolean }).isHistoryNavigation, false);
});

test("request: once the body is consumed, its stream is locked, as a real Request's is", async () => {
  const read = new ServerRequest("POST", "http://h/", [], body("abc"));
  await read.text();
  assert.equal(read.body!.locked, true);
  assert.throws(() => read.body!.getReader(), TypeError);
  const taken = new ServerRequest("POST", "http://h/", [], body("abc"));
  const stream = taken.body!; // taken, never read, then the body consumed another way
  assert.equal(await taken.arrayBuffer().then((b) => b.byteLength), 3);
  assert.equal(stream.locked, true);
  assert.equal(taken.body, stream);
});

test("request: clone() throws once a reader holds the body, as Request.clone() does", () => {
  const r = new ServerRequest("POST", "http://h/", [], body("abc"));
  r.body!.getReader();
  assert.throws(() => r.clone(), TypeError);
  const free = new ServerRequest("POST", "http://h/", [], body("abc"));
  assert.ok(free.body instanceof ReadableStream); // taken but not locked: still clonable
  assert.ok(free.clone() instanceof Request);
});
