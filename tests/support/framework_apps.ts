/**
 * The same small app written with each framework users serve (Hono, Elysia,
 * h3 v2, itty-router), each in that framework's own idiom: its router, its
 * body parsers, its cookie helpers, its redirect, its streaming and
 * server-sent-event helpers, its 404 and its error hook. tests/frameworks.test.ts
 * serves each through our server and through the runtime's own, and compares.
 *
 * Routes (every app):
 *   GET  /users/:id        {"id", "framework"} as JSON
 *   GET  /search?q&tag&tag {"q", "tags"} as JSON
 *   POST /json             {"got": <the JSON sent>}, 201
 *   POST /form             the urlencoded fields as JSON
 *   POST /upload           request.formData(): {"fields", "files": [{field, name, type, size, sha256}]}
 *   GET  /cookies          two Set-Cookie headers, {"cookies": <the Cookie header parsed>}
 *   GET  /redirect         302 to /users/7
 *   GET  /text             "hello from <framework>" as the framework's text response
 *   GET  /big              BIG (8 MiB) as application/octet-stream
 *   GET  /stream?gate=ID   "first\n", then waits until releaseGate(ID), then "last\n"
 *   GET  /sse?gate=ID      event "tick" data "one" id 1, waits for the gate, then data "two" id 2
 *   GET  /error            throws; the framework's error hook answers 500 {"error": "boom"}
 *   anything else          the framework's own 404
 */
import { createHash } from "node:crypto";
import { Hono } from "hono";
import { getCookie, setCookie as honoSetCookie } from "hono/cookie";
import { stream as honoStream, streamSSE } from "hono/streaming";
import { Elysia, sse } from "elysia";
import { EventStream, getQuery, getRouterParam, H3, parseCookies, readBody, redirect, setCookie } from "h3";
import { AutoRouter, error as ittyError, json as ittyJson } from "itty-router";

/** A fetch-style app. */
export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

/** The 8 MiB body of GET /big: a pattern, so a byte out of place shows. */
export const BIG: Uint8Array<ArrayBuffer> = (() => {
  const bytes = new Uint8Array(8 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >>> 13)) & 0xff;
  return bytes;
})();

/** sha256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

interface Gate {
  promise: Promise<void>;
  release: () => void;
}
const gates = new Map<string, Gate>();

function gateFor(id: string): Gate {
  let gate = gates.get(id);
  if (gate === undefined) {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    gate = { promise, release };
    gates.set(id, gate);
  }
  return gate;
}

/**
 * What /stream and /sse wait on between their first and last parts. The test
 * releases it only after the client has received the first part, so a server
 * that held the body back until it ended would never finish (ordering, not timing).
 */
export function waitGate(id: string): Promise<void> {
  return gateFor(id).promise.finally(() => gates.delete(id));
}

/** Lets the response waiting on gate `id` produce its last part. */
export function releaseGate(id: string): void {
  gateFor(id).release();
}

/** Describes a multipart form: text fields and files with their digests. */
async function describeForm(form: FormData): Promise<unknown> {
  const fields: Record<string, string> = {};
  const files: Array<Record<string, unknown>> = [];
  for (const [field, value] of form) {
    if (typeof value === "string") fields[field] = value;
    else {
      const bytes = new Uint8Array(await value.arrayBuffer());
      files.push({ field, name: value.name, type: value.type, size: bytes.length, sha256: sha256(bytes) });
    }
  }
  return { fields, files };
}

function gateOf(url: string): string {
  return new URL(url).searchParams.get("gate") ?? "none";
}

const BIG_HEADERS = { "content-type": "application/octet-stream" };

/** Hono, in its own idiom (c.json, c.req.parseBody, hono/cookie, hono/streaming, onError). */
export function honoApp(): FetchApp {
  const app = new Hono();
  app.get("/users/:id", (c) => c.json({ id: c.req.param("id"), framework: "hono" }));
  app.get("/search", (c) => c.json({ q: c.req.query("q"), tags: c.req.queries("tag") }));
  app.post("/json", async (c) => c.json({ got: await c.req.json() }, 201));
  app.post("/form", async (c) => c.json(await c.req.parseBody()));
  app.post("/upload", async (c) => c.json(await describeForm(await c.req.formData())));
  app.get("/cookies", (c) => {
    honoSetCookie(c, "session", "abc123", { path: "/", httpOnly: true });
    honoSetCookie(c, "theme", "dark", { path: "/", maxAge: 3600 });
    return c.json({ cookies: getCookie(c) });
  });
  app.get("/redirect", (c) => c.redirect("/users/7", 302));
  app.get("/text", (c) => c.text("hello from hono"));
  app.get("/big", (c) => c.body(BIG, 200, BIG_HEADERS));
  app.get("/stream", (c) =>
    honoStream(c, async (s) => {
      await s.write("first\n");
      await waitGate(gateOf(c.req.url));
      await s.write("last\n");
    }));
  app.get("/sse", (c) =>
    streamSSE(c, async (s) => {
      await s.writeSSE({ event: "tick", data: "one", id: "1" });
      await waitGate(gateOf(c.req.url));
      await s.writeSSE({ data: "two", id: "2" });
    }));
  app.get("/error", () => {
    throw new Error("boom");
  });
  app.onError((err, c) => c.json({ error: err.message }, 500));
  return app;
}

/** Elysia, in its own idiom (returned objects, parsed body, cookie jar, generators, sse(), onError). */
export function elysiaApp(): FetchApp {
  return new Elysia()
    .onError(({ code, error, set }) => {
      if (code === "NOT_FOUND") return; // Elysia's own 404
      set.status = 500;
      return { error: error instanceof Error ? error.message : String(error) };
    })
    .get("/users/:id", ({ params }) => ({ id: params.id, framework: "elysia" }))
    .get("/search", ({ request }) => {
      const params = new URL(request.url).searchParams;
      return { q: params.get("q"), tags: params.getAll("tag") };
    })
    .post("/json", ({ body, set }) => {
      set.status = 201;
      return { got: body };
    })
    .post("/form", ({ body }) => body as Record<string, string>)
    .post("/upload", async ({ request }) => await describeForm(await request.formData()), { parse: "none" })
    .get("/cookies", ({ cookie: { session, theme }, headers }) => {
      session.set({ value: "abc123", path: "/", httpOnly: true });
      theme.set({ value: "dark", path: "/", maxAge: 3600 });
      return { cookies: parseCookieHeader(headers.cookie) };
    })
    // Elysia's redirect is Response.redirect, which takes only an absolute URL on Node and Deno.
    .get("/redirect", ({ redirect, request }) => redirect(new URL("/users/7", request.url).href, 302))
    .get("/text", () => "hello from elysia")
    .get("/big", ({ set }) => {
      set.headers["content-type"] = "application/octet-stream";
      return new Response(BIG);
    })
    .get("/stream", async function* ({ request }) {
      yield "first\n";
      await waitGate(gateOf(request.url));
      yield "last\n";
    })
    .get("/sse", async function* ({ request }) {
      yield sse({ event: "tick", data: "one", id: "1" });
      await waitGate(gateOf(request.url));
      yield sse({ data: "two", id: "2" });
    })
    .get("/error", () => {
      throw new Error("boom");
    });
}

function parseCookieHeader(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}

/** h3 v2, in its own idiom (returned values, getQuery, readBody, setCookie, redirect, EventStream, onError). */
export function h3App(): FetchApp {
  const app = new H3({
    silent: true, // the error hook below answers; no stack traces on the test's stderr
    // Only a handler's failure: h3's own 404 (an HTTPError too) stays h3's.
    onError: (error) =>
      error.status === 500 && error.cause instanceof Error
        ? Response.json({ error: error.cause.message }, { status: 500 })
        : undefined,
  });
  app.get("/users/:id", (event) => ({ id: getRouterParam(event, "id"), framework: "h3" }));
  app.get("/search", (event) => {
    const query = getQuery(event) as Record<string, string | string[]>;
    return { q: query.q, tags: ([] as string[]).concat(query.tag ?? []) };
  });
  app.post("/json", async (event) => {
    event.res.status = 201;
    return { got: await readBody(event) };
  });
  app.post("/form", async (event) => await readBody(event));
  app.post("/upload", async (event) => await describeForm(await event.req.formData()));
  app.get("/cookies", (event) => {
    setCookie(event, "session", "abc123", { path: "/", httpOnly: true });
    setCookie(event, "theme", "dark", { path: "/", maxAge: 3600 });
    return { cookies: parseCookies(event) };
  });
  app.get("/redirect", () => redirect("/users/7", 302));
  app.get("/text", () => "hello from h3");
  app.get("/big", (event) => {
    event.res.headers.set("content-type", "application/octet-stream");
    return BIG;
  });
  app.get("/stream", (event) => {
    const id = gateOf(event.req.url);
    const encoder = new TextEncoder();
    return new ReadableStream({
      async start(controller) {
        controller.enqueue(encoder.encode("first\n"));
        await waitGate(id);
        controller.enqueue(encoder.encode("last\n"));
        controller.close();
      },
    });
  });
  app.get("/sse", (event) => {
    const id = gateOf(event.req.url);
    const events = new EventStream(event);
    (async () => {
      await events.push({ event: "tick", data: "one", id: "1" });
      await waitGate(id);
      await events.push({ data: "two", id: "2" });
      await events.close();
    })();
    return events;
  });
  app.get("/error", () => {
    throw new Error("boom");
  });
  return app;
}

/** itty-router v5, in its own idiom (AutoRouter: returned objects become JSON, its 404, its catch). */
export function ittyApp(): FetchApp {
  const router = AutoRouter({
    catch: (err: Error) => ittyError(500, { error: err.message }),
  });
  // itty-router routes HEAD only where told to: /users/:id, /text and /big answer HEAD with the GET handler.
  const user = ({ params }: { params: Record<string, string> }) => ({ id: params.id, framework: "itty-router" });
  router.get("/users/:id", user);
  router.head("/users/:id", user);
  router.get("/search", ({ query }) => ({ q: query.q, tags: ([] as string[]).concat(query.tag ?? []) }));
  router.post("/json", async (request) => ittyJson({ got: await request.json() }, { status: 201 }));
  router.post("/form", async (request) => Object.fromEntries(new URLSearchParams(await request.text())));
  router.post("/upload", async (request) => await describeForm(await request.formData()));
  router.get("/cookies", (request) => {
    const headers = new Headers({ "content-type": "application/json" });
    headers.append("set-cookie", "session=abc123; Path=/; HttpOnly");
    headers.append("set-cookie", "theme=dark; Max-Age=3600; Path=/");
    const body = JSON.stringify({ cookies: parseCookieHeader(request.headers.get("cookie") ?? undefined) });
    return new Response(body, { headers });
  });
  router.get("/redirect", () => new Response(null, { status: 302, headers: { location: "/users/7" } }));
  const hello = () => new Response("hello from itty-router");
  router.get("/text", hello);
  router.head("/text", hello);
  const big = () => new Response(BIG, { headers: BIG_HEADERS });
  router.get("/big", big);
  router.head("/big", big);
  router.get("/stream", (request) => {
    const id = gateOf(request.url);
    const encoder = new TextEncoder();
    return new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(encoder.encode("first\n"));
          await waitGate(id);
          controller.enqueue(encoder.encode("last\n"));
          controller.close();
        },
      }),
      { headers: { "content-type": "text/plain; charset=utf-8" } },
    );
  });
  router.get("/sse", (request) => {
    const id = gateOf(request.url);
    const encoder = new TextEncoder();
    const body = new ReadableStream({
      async start(controller) {
        controller.enqueue(encoder.encode("event: tick\ndata: one\nid: 1\n\n"));
        await waitGate(id);
        controller.enqueue(encoder.encode("data: two\nid: 2\n\n"));
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  });
  router.get("/error", () => {
    throw new Error("boom");
  });
  return router;
}

/** Every framework's app, by name. */
export const FRAMEWORK_APPS: Record<string, () => FetchApp> = {
  hono: honoApp,
  elysia: elysiaApp,
  h3: h3App,
  "itty-router": ittyApp,
};
