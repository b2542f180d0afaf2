// Real frameworks through our server, as a client sees them: the same app
// (tests/support/framework_apps.ts) built with Hono, Elysia, h3 and
// itty-router is served by waitress-serve and checked feature by feature, then
// served by the runtime's own server too (Deno.serve, Bun.serve,
// @hono/node-server) and the answers compared. Every difference that remains
// is in DIFFERENCES below, with its reason, and in the README's "Frameworks".
import { test } from "node:test";
import assert from "node:assert/strict";
import { serve, type Server } from "../mod.ts";
import { BIG, FRAMEWORK_APPS, releaseGate, sha256 } from "./support/framework_apps.ts";
import { type Ask, Connection, header, type Reply, requestBytes, text } from "./support/http_client.ts";
import { nativeServerName, startNative } from "./support/native_server.ts";

const NATIVE = nativeServerName();
/** Bun's Response keeps the Content-Type a string body implies out of `headers`. */
const IMPLIED_TYPE_HIDDEN = new Response("").headers.get("content-type") === null;
const INBUF_OVERFLOW = 512 * 1024;

/** A multipart body written out by hand (the same bytes on every runtime), one file above inbufOverflow. */
const BOUNDARY = "----waitressFormBoundary7MA4YWxk";
const PHOTO = Uint8Array.from({ length: INBUF_OVERFLOW + 88 * 1024 }, (_, i) => (i * 7 + (i >>> 11)) & 0xff);
const NOTE = "a small note\n";
const MULTIPART = (() => {
  const enc = new TextEncoder();
  const parts = [
    enc.encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nholiday\r\n`),
    enc.encode(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="photo"; filename="photo.bin"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n`,
    ),
    PHOTO,
    enc.encode(
      `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"; filename="note.txt"\r\n` +
        `Content-Type: text/plain\r\n\r\n${NOTE}\r\n--${BOUNDARY}--\r\n`,
    ),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.length);
  return out;
})();

/** The requests every app answers, by label. `gate` marks a streamed answer whose last part waits for the client. */
const ASKS: Record<string, Ask & { gate?: string }> = {
  param: { path: "/users/42" },
  query: { path: "/search?q=a%20b&tag=x&tag=y" },
  json: { method: "POST", path: "/json", headers: { "content-type": "application/json" }, body: '{"a":[1,"z"]}' },
  form: {
    method: "POST",
    path: "/form",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "name=J%C3%B6rg&x=1+2",
  },
  upload: {
    method: "POST",
    path: "/upload",
    headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
    body: MULTIPART,
  },
  cookies: { path: "/cookies", headers: { cookie: "a=1; b=two" } },
  redirect: { path: "/redirect" },
  text: { path: "/text" },
  "head-text": { method: "HEAD", path: "/text" },
  "head-user": { method: "HEAD", path: "/users/42" },
  big: { path: "/big" },
  "head-big": { method: "HEAD", path: "/big" },
  stream: { path: "/stream", gate: "first\n" },
  sse: { path: "/sse", gate: "data: one" },
  missing: { path: "/no/such/route" },
  error: { path: "/error" },
};

let gateCount = 0;

/**
 * Sends one ask on a fresh connection and reads the answer. For a gated ask the
 * app holds its last part back until the client has received the first: the
 * gate is released only from the client's data callback, so a server that
 * buffered the body until it ended would time out here.
 */
async function ask(port: number, label: string): Promise<Reply & { releasedByClient: boolean }> {
  const a = ASKS[label];
  const conn = await Connection.open(port, { timeoutMs: 10000 });
  const id = `g${++gateCount}`;
  let releasedByClient = false;
  try {
    const path = a.gate === undefined ? a.path : `${a.path}?gate=${id}`;
    conn.write(requestBytes({ ...a, path }));
    const head = await conn.readHead();
    let seen = "";
    const reply = await conn.readBody(head, a.method ?? "GET", (piece) => {
      if (a.gate === undefined || releasedByClient) return;
      seen += new TextDecoder().decode(piece);
      if (seen.includes(a.gate)) {
        releasedByClient = true;
        releaseGate(id);
      }
    });
    if (a.method === "HEAD") {
      // Nothing may follow a HEAD answer's head: the next answer on the connection must parse.
      const next = await conn.request({ path: "/users/9" });
      assert.equal(next.status, 200, `${label}: the answer after HEAD`);
    }
    return { ...reply, releasedByClient };
  } finally {
    if (a.gate !== undefined) releaseGate(id); // never leave an app waiting
    conn.close();
  }
}

function json(reply: Reply): unknown {
  return JSON.parse(text(reply));
}

/** Server-sent events as [{field: value}] (RFC: events end with a blank line). */
function events(body: string): Array<Record<string, string>> {
  return body.split("\n\n").filter((block) => block.trim() !== "").map((block) => {
    const event: Record<string, string> = {};
    for (const line of block.split("\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) event[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
    }
    return event;
  });
}

/** Our server in front of `app`; `spilled` counts uploads that reached the app from a temporary file. */
async function startOurs(
  app: { fetch(r: Request): Response | Promise<Response> },
): Promise<{ server: Server; spilled: () => number }> {
  let spilled = 0;
  const server: Server = serve({
    fetch(request: Request) {
      // The body is received whole before the app runs: above inbufOverflow it waits in a temporary file.
      if (request.url.endsWith("/upload") && server.stats().tempFiles > 0) spilled++;
      return app.fetch(request);
    },
  }, {
    listen: "127.0.0.1:0",
    inbufOverflow: INBUF_OVERFLOW,
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  await server.ready;
  return { server, spilled: () => spilled };
}

/** Checks of each answer through our server, as a client of the app expects it. */
const EXPECT: Record<string, (reply: Reply & { releasedByClient: boolean }, framework: string) => void> = {
  param: (r, fw) => {
    assert.equal(r.status, 200);
    assert.match(header(r, "content-type") ?? "", /^application\/json/);
    assert.deepEqual(json(r), { id: "42", framework: fw });
  },
  query: (r) => assert.deepEqual(json(r), { q: "a b", tags: ["x", "y"] }),
  json: (r) => {
    assert.equal(r.status, 201);
    assert.match(header(r, "content-type") ?? "", /^application\/json/);
    assert.deepEqual(json(r), { got: { a: [1, "z"] } });
  },
  form: (r) => assert.deepEqual(json(r), { name: "Jörg", x: "1 2" }),
  upload: (r) => {
    assert.equal(r.status, 200, text(r));
    const got = json(r) as { fields: unknown; files: Array<Record<string, unknown>> };
    assert.deepEqual(got.fields, { title: "holiday" });
    assert.equal(got.files.length, 2);
    assert.deepEqual(got.files[0], {
      field: "photo",
      name: "photo.bin",
      type: "application/octet-stream",
      size: PHOTO.length,
      sha256: sha256(PHOTO),
    });
    assert.equal(got.files[1].field, "note");
    assert.equal(got.files[1].name, "note.txt");
    assert.match(String(got.files[1].type), /^text\/plain/);
    assert.equal(got.files[1].sha256, sha256(new TextEncoder().encode(NOTE)));
  },
  cookies: (r) => {
    assert.equal(r.status, 200);
    const cookies = r.headers.get("set-cookie") ?? [];
    assert.equal(cookies.length, 2, `two Set-Cookie lines: ${JSON.stringify(cookies)}`);
    assert.match(cookies[0], /^session=abc123;/);
    assert.match(cookies[0], /HttpOnly/i);
    assert.match(cookies[1], /^theme=dark;/);
    assert.match(cookies[1], /Max-Age=3600/i);
    assert.deepEqual(json(r), { cookies: { a: "1", b: "two" } });
  },
  redirect: (r) => {
    assert.equal(r.status, 302);
    assert.match(header(r, "location") ?? "", /\/users\/7$/);
  },
  text: (r, fw) => {
    assert.equal(text(r), `hello from ${fw}`);
    assert.match(header(r, "content-type") ?? "(none)", /^text\/plain/, "the Content-Type a string body implies");
  },
  big: (r) => {
    assert.equal(r.status, 200);
    assert.equal(header(r, "content-type"), "application/octet-stream");
    assert.equal(r.body.length, BIG.length);
    assert.equal(sha256(r.body), sha256(BIG));
  },
  stream: (r) => {
    assert.equal(r.status, 200);
    assert.equal(text(r), "first\nlast\n");
    assert.ok(r.releasedByClient, "the first chunk reached the client before the last was produced");
  },
  sse: (r) => {
    assert.equal(r.status, 200);
    assert.match(header(r, "content-type") ?? "", /^text\/event-stream/);
    assert.deepEqual(events(text(r)), [{ event: "tick", data: "one", id: "1" }, { data: "two", id: "2" }]);
    assert.ok(r.releasedByClient, "the first event reached the client before the last was produced");
  },
  missing: (r) => {
    assert.equal(r.status, 404);
    assert.doesNotMatch(text(r), /generated by waitress/, "the framework's own 404");
  },
  error: (r) => {
    assert.equal(r.status, 500);
    assert.equal((json(r) as { error: string }).error, "boom", "the framework's error hook answered");
  },
};

/** HEAD: the GET's headers without the body; a Content-Length, when sent, is the GET's (RFC 9110 9.3.2, 8.6). */
async function checkHead(framework: string, port: number, label: string, getLabel: string): Promise<void> {
  const [head, get] = [await ask(port, label), await ask(port, getLabel)];
  assert.equal(head.status, get.status, label);
  assert.equal(head.body.length, 0, label);
  // A framework that answers HEAD itself with `new Response(null, getResponse)` (h3; Hono and Elysia on Bun, whose
  // Response keeps the implied type out of headers) copies the GET's explicit headers only: the type a string
  // body implies is not among them, on every server (compared below).
  const rebuilt = framework === "h3" || (IMPLIED_TYPE_HIDDEN && framework !== "itty-router");
  if (!(rebuilt && label === "head-text")) {
    assert.equal(header(head, "content-type"), header(get, "content-type"), `${label}: Content-Type as for GET`);
  }
  const length = header(head, "content-length");
  if (length !== undefined) assert.equal(Number(length), get.body.length, `${label}: Content-Length is the GET's`);
}

for (const framework of Object.keys(FRAMEWORK_APPS)) {
  test(`frameworks: ${framework} through waitress-serve: params, query, JSON, forms, uploads, cookies, redirect, HEAD, streams, SSE, 8 MiB, 404, errors`, async () => {
    const { server, spilled } = await startOurs(FRAMEWORK_APPS[framework]());
    const port = server.addrs[0].port;
    try {
      for (const [label, check] of Object.entries(EXPECT)) {
        const reply = await ask(port, label);
        try {
          check(reply, framework);
        } catch (error) {
          throw new Error(`${framework} ${label}: ${(error as Error).message}`, { cause: error });
        }
      }
      await checkHead(framework, port, "head-text", "text");
      await checkHead(framework, port, "head-user", "param");
      await checkHead(framework, port, "head-big", "big");
      assert.equal(spilled(), 1, "the upload above inbufOverflow came through the temporary file");
    } finally {
      await server.close();
    }
  });
}

/** What is compared between the two servers: status, body, and the headers an app or a client relies on. */
function answerOf(reply: Reply | Error, label: string): Record<string, unknown> {
  if (reply instanceof Error) return { answer: `failed: ${reply.message}` };
  const out: Record<string, unknown> = { status: reply.status };
  out.body = reply.body.length > 4096 ? `${reply.body.length} bytes, sha256 ${sha256(reply.body)}` : text(reply);
  for (const name of ["content-type", "location", "set-cookie", "cache-control", "x-accel-buffering"]) {
    const values = reply.headers.get(name);
    if (values !== undefined) out[name] = values.join("\n");
  }
  if (ASKS[label].method === "HEAD") out["content-length"] = header(reply, "content-length") ?? "(none)";
  return out;
}

/**
 * Differences from the runtime's own server that stay, each with its reason
 * (the README's "Frameworks" lists them too). Keyed by server, then
 * `framework/ask/field` ("*" for any framework). A listed difference that no
 * longer shows fails too, so this list stays true.
 */
const HEAD_LENGTH = "no Content-Length: 0 on a bodiless HEAD (RFC 9110 9.3.2)";
const STRING_CHUNKS = "strings in the body stream are sent as UTF-8";
const NODE_SERVER_TYPE = "no invented Content-Type";
const DIFFERENCES: Record<string, Record<string, string>> = {
  "Deno.serve": {
    // A HEAD whose response has no body (Hono and h3 strip it): Deno.serve says Content-Length: 0, which tells
    // the client the GET's body is empty. We send none, as RFC 9110 9.3.2 and 8.6 have it when it is not known.
    "hono/head-text/content-length": HEAD_LENGTH,
    "hono/head-user/content-length": HEAD_LENGTH,
    "hono/head-big/content-length": HEAD_LENGTH,
    "h3/head-text/content-length": HEAD_LENGTH,
    "h3/head-user/content-length": HEAD_LENGTH,
    // Elysia's generators put strings into the body stream: Deno.serve cuts the connection ("expected typed
    // ArrayBufferView"); we send them as UTF-8, as Bun.serve and @hono/node-server do.
    "elysia/stream/answer": STRING_CHUNKS,
    "elysia/sse/answer": STRING_CHUNKS,
  },
  "Bun.serve": {
    "hono/head-text/content-length": HEAD_LENGTH,
    "hono/head-user/content-length": HEAD_LENGTH,
    "hono/head-big/content-length": HEAD_LENGTH,
    "h3/head-text/content-length": HEAD_LENGTH,
    "h3/head-user/content-length": HEAD_LENGTH,
    // Bun.serve gives a string body its text/plain type on GET but not on HEAD; we send the GET's (RFC 9110 9.3.2).
    "itty-router/head-text/content-type": "HEAD has the GET's headers",
  },
  "@hono/node-server": {
    // @hono/node-server gives every body without a Content-Type its own "text/plain; charset=UTF-8", a stream of
    // unknown type included; we send the type the app's Response has (or implies), as Deno.serve and Bun.serve do.
    "hono/stream/content-type": NODE_SERVER_TYPE,
    "h3/stream/content-type": NODE_SERVER_TYPE,
    "h3/text/content-type": NODE_SERVER_TYPE,
  },
};

/** Lines of difference between our answer and the native one, with listed ones taken out; "stale" when a listed one is gone. */
function compare(framework: string, label: string, ours: Record<string, unknown>, native: Record<string, unknown>) {
  const listed = DIFFERENCES[NATIVE] ?? {};
  const problems: string[] = [];
  const fields = new Set([...Object.keys(ours), ...Object.keys(native)]);
  const failed = "answer" in ours || "answer" in native;
  for (const field of failed ? ["answer"] : fields) {
    const a = failed ? JSON.stringify(ours) : ours[field];
    const b = failed ? JSON.stringify(native) : native[field];
    const known = listed[`${framework}/${label}/${field}`] ?? listed[`*/${label}/${field}`];
    const differs = JSON.stringify(a) !== JSON.stringify(b);
    if (differs && known === undefined) {
      problems.push(`${framework} ${label} ${field}: ours ${JSON.stringify(a)}, ${NATIVE} ${JSON.stringify(b)}`);
    }
  }
  for (const key of Object.keys(listed)) {
    const [fw, lb, field] = key.split("/");
    if ((fw !== framework && fw !== "*") || lb !== label) continue;
    const a = field === "answer" ? JSON.stringify(ours) : JSON.stringify(ours[field]);
    const b = field === "answer" ? JSON.stringify(native) : JSON.stringify(native[field]);
    if (a === b) problems.push(`listed difference ${key} no longer shows: both ${a}`);
  }
  return problems;
}

for (const framework of Object.keys(FRAMEWORK_APPS)) {
  test(`frameworks: ${framework} answers the same through waitress-serve and ${NATIVE}, differences listed`, async () => {
    const app = FRAMEWORK_APPS[framework]();
    const { server: ours } = await startOurs(app);
    const native = await startNative(app);
    const problems: string[] = [];
    try {
      for (const label of Object.keys(ASKS)) {
        const a = await ask(ours.addrs[0].port, label).catch((e: Error) => e);
        const b = await ask(native.port, label).catch((e: Error) => e);
        problems.push(...compare(framework, label, answerOf(a, label), answerOf(b, label)));
      }
    } finally {
      await ours.close();
      await native.stop();
    }
    assert.deepEqual(problems, []);
  });
}
