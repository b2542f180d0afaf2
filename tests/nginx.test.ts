// The README's "Behind nginx" recipe, tested with a real nginx (Debian's
// nginx-light; npm test installs it when missing): nginx runs the README's
// configuration (TLS left out) on loopback in front of our server, started with
// the README's trusted-proxy options. Clients connect from 127.0.0.2 so that
// the client's address and nginx's (127.0.0.1) differ.
import { test } from "node:test";
import assert from "node:assert/strict";
import { serve, type ServeInfo, type Server } from "../mod.ts";
import { parseCommandLine } from "../lib/cli/args.ts";
import { Connection, fetchRaw, header, text } from "./support/http_client.ts";
import { nginxSkip, readmeRecipe, readmeServeArgs, recipeForLoopback, startNginx } from "./support/nginx.ts";

const skip = nginxSkip();
const CLIENT_ADDRESS = "127.0.0.2";

/** What the app saw of one request. */
interface Seen {
  url: string;
  remote: { hostname: string; port: number };
  prefix: string;
  method: string;
  bodyLength: number;
}

/** Our server with the README command's options (plus `extra`), answering with what the app saw. */
async function startApp(extra: Record<string, unknown> = {}): Promise<{ server: Server; seen: Seen[] }> {
  const { options } = parseCommandLine([...readmeServeArgs(), "app.ts"]);
  const seen: Seen[] = [];
  const server = serve(async (request: Request, info: ServeInfo) => {
    const body = new Uint8Array(await request.arrayBuffer());
    const entry: Seen = {
      url: request.url,
      remote: { hostname: info.remoteAddr.hostname, port: info.remoteAddr.port },
      prefix: info.urlPrefix,
      method: request.method,
      bodyLength: body.length,
    };
    seen.push(entry);
    const size = Number(new URL(request.url).searchParams.get("size") ?? "0");
    if (size > 0) return new Response(new Uint8Array(size).fill(120), { headers: { "x-seen": JSON.stringify(entry) } });
    return Response.json(entry);
  }, {
    ...options,
    ...extra,
    listen: "127.0.0.1:0",
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  await server.ready;
  return { server, seen };
}

test("nginx: the README's recipe made runnable on loopback changes only the upstream, the listener and TLS", () => {
  const recipe = readmeRecipe();
  const local = recipeForLoopback(recipe, "127.0.0.1:1234", 5678, "/app/");
  assert.match(local, /^\s*server 127\.0\.0\.1:1234;$/m);
  assert.match(local, /^\s*listen 127\.0\.0\.1:5678;$/m);
  assert.match(local, /^\s*location \/app\/ \{$/m);
  assert.doesNotMatch(local, /ssl/);
  // Every proxy line of the recipe is there as written.
  for (const line of recipe.split("\n").filter((l) => /proxy_|keepalive|server_name/.test(l))) {
    assert.ok(local.includes(line), `kept: ${line.trim()}`);
  }
  assert.throws(() => recipeForLoopback(recipe.replace("listen 443 ssl;", "listen 80;"), "x:1", 1), /listen 443 ssl/);
});

test("nginx: the README's options are what the recipe needs", () => {
  const { options } = parseCommandLine([...readmeServeArgs(), "app.ts"]);
  assert.equal(options.trustedProxy, "127.0.0.1");
  assert.match(String(options.trustedProxyHeaders), /x-forwarded-for/);
});

test("nginx: the app sees the client's address and the forwarded scheme, host and port", { skip }, async () => {
  // urlScheme "https" on our side: the "http" the app sees can only have come from nginx's X-Forwarded-Proto.
  const { server } = await startApp({ urlScheme: "https" });
  const nginx = await startNginx({ upstream: `127.0.0.1:${server.addrs[0].port}` });
  try {
    const reply = await fetchRaw(nginx.port, {
      path: "/some/path?x=1&y=%20",
      // A client that forges X-Forwarded-For is not believed: nginx appends the real peer, and only the last hop counts.
      headers: { host: "example.com", "x-forwarded-for": "203.0.113.66" },
    }, { localAddress: CLIENT_ADDRESS });
    assert.equal(reply.status, 200, text(reply));
    const seen = JSON.parse(text(reply)) as Seen;
    assert.equal(seen.remote.hostname, CLIENT_ADDRESS);
    assert.equal(seen.url, `http://example.com:${nginx.port}/some/path?x=1&y=%20`);
    assert.equal(seen.prefix, "");
    assert.match(header(reply, "server") ?? "", /^nginx/, "nginx answered");
  } finally {
    await nginx.stop();
    await server.close();
  }
});

test("nginx: upstream keep-alive reuses our connections", { skip }, async () => {
  const { server, seen } = await startApp();
  const nginx = await startNginx({ upstream: `127.0.0.1:${server.addrs[0].port}` });
  try {
    const REQUESTS = 30;
    for (let i = 0; i < REQUESTS; i++) {
      // A fresh client connection each time: only nginx's upstream pool can keep ours.
      const reply = await fetchRaw(nginx.port, { path: `/n${i}`, headers: { host: "example.com" } }, {
        localAddress: CLIENT_ADDRESS,
      });
      assert.equal(reply.status, 200);
    }
    assert.equal(seen.length, REQUESTS);
    // X-Forwarded-For carries no port: info.remoteAddr.port stays the peer's, nginx's end of our connection.
    const ports = new Set(seen.map((s) => s.remote.port));
    assert.equal(ports.size, 1, `one upstream connection for ${REQUESTS} sequential requests, saw ports ${[...ports]}`);
    assert.equal(server.stats().connections, 1, "nginx keeps it open, idle");
  } finally {
    await nginx.stop();
    await server.close();
  }
});

test("nginx: the url-prefix recipe (location /app/ with --url-prefix=/app)", { skip }, async () => {
  const { server, seen } = await startApp({ urlPrefix: "/app" });
  const nginx = await startNginx({ upstream: `127.0.0.1:${server.addrs[0].port}`, location: "/app/" });
  try {
    const reply = await fetchRaw(nginx.port, { path: "/app/users/7?q=1", headers: { host: "example.com" } }, {
      localAddress: CLIENT_ADDRESS,
    });
    assert.equal(reply.status, 200, text(reply));
    const got = JSON.parse(text(reply)) as Seen;
    assert.equal(got.url, `http://example.com:${nginx.port}/users/7?q=1`);
    assert.equal(got.prefix, "/app");
    assert.equal(got.remote.hostname, CLIENT_ADDRESS);
    // Outside the location nginx answers itself; the app never sees it.
    const outside = await fetchRaw(nginx.port, { path: "/other", headers: { host: "example.com" } });
    assert.equal(outside.status, 404);
    assert.equal(seen.length, 1);
  } finally {
    await nginx.stop();
    await server.close();
  }
});

test("nginx: a short bounded load through nginx gets no 5xx", { skip }, async () => {
  const { server, seen } = await startApp({ threads: 4 });
  const nginx = await startNginx({ upstream: `127.0.0.1:${server.addrs[0].port}` });
  const CLIENTS = 12;
  const PER_CLIENT = 25;
  const deadline = Date.now() + 60_000;
  const statuses = new Map<number, number>();
  try {
    await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
      // Keep-alive clients, mixing small GETs, uploads and a 256 KiB download.
      const conn = await Connection.open(nginx.port, { localAddress: CLIENT_ADDRESS });
      try {
        for (let i = 0; i < PER_CLIENT && Date.now() < deadline; i++) {
          const kind = (c + i) % 3;
          const reply = kind === 0
            ? await conn.request({ path: `/c${c}/r${i}`, headers: { host: "example.com" } })
            : kind === 1
            ? await conn.request({
              method: "POST",
              path: `/upload/${c}/${i}`,
              headers: { host: "example.com", "content-type": "application/octet-stream" },
              body: new Uint8Array(40_000 + i).fill(c),
            })
            : await conn.request({ path: `/big?size=${256 * 1024}`, headers: { host: "example.com" } });
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          if (kind === 2) assert.equal(reply.body.length, 256 * 1024);
        }
      } finally {
        conn.close();
      }
    }));
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, CLIENTS * PER_CLIENT, "every request answered within the time bound");
    assert.deepEqual([...statuses.keys()], [200], `statuses: ${JSON.stringify([...statuses])}`);
    assert.equal(seen.length, total);
    assert.ok(seen.filter((s) => s.method === "POST").every((s) => s.bodyLength >= 40_000), "uploads arrived whole");
    assert.doesNotMatch(nginx.errorLog(), /\[(error|crit|alert|emerg)\]/, "nginx logged no upstream error");
  } finally {
    await nginx.stop();
    await server.close();
  }
});

test(
  "nginx: server-sent events reach the client as they are produced, through the recipe as it is",
  { skip },
  async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const encoder = new TextEncoder();
    const server = serve(() =>
      new Response(
        new ReadableStream({
          async start(controller) {
            controller.enqueue(encoder.encode("data: one\n\n"));
            await gate; // released only once the client has the first event
            controller.enqueue(encoder.encode("data: two\n\n"));
            controller.close();
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      ), { listen: "127.0.0.1:0", logger: { info: () => {}, warn: () => {}, error: () => {} } });
    await server.ready;
    const nginx = await startNginx({ upstream: `127.0.0.1:${server.addrs[0].port}` });
    const conn = await Connection.open(nginx.port, { timeoutMs: 10000 });
    try {
      conn.write("GET /events HTTP/1.1\r\nHost: example.com\r\n\r\n");
      const head = await conn.readHead();
      assert.equal(head.status, 200);
      let seen = "";
      const reply = await conn.readBody(head, "GET", (piece) => {
        seen += new TextDecoder().decode(piece);
        if (seen.includes("data: one")) release();
      });
      assert.equal(text(reply), "data: one\n\ndata: two\n\n");
    } finally {
      release();
      conn.close();
      await nginx.stop();
      await server.close();
    }
  },
);
