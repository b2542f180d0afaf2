/**
 * The two servers of the differential check and how a case is sent to them:
 * our `serve()` and node:http (llhttp), both echoing method, path, body
 * length and a body digest, so framing differences show; then how their
 * answers relate.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "../../mod.ts";
import type { Server } from "../../mod.ts";
import { latin1 } from "./bytes.ts";
import { parseResponses } from "./responses.ts";

/** What both apps answer: method, path and query, body length and digest. */
export function echo(method: string, url: string, body: Uint8Array): string {
  let path = url;
  if (!url.startsWith("/") && url !== "*") {
    const u = new URL(url);
    path = u.pathname + u.search;
  }
  const digest = createHash("sha256").update(body).digest("hex").slice(0, 16);
  return `${method} ${path} ${body.length} ${digest}`;
}

/** Our server, echoing. */
export async function startOurs(): Promise<{ server: Server; port: number }> {
  const server = serve(async (req) => {
    // bytes(), not arrayBuffer(): see the arrayBuffer() test in tests/differential.test.ts.
    const body = await req.bytes();
    // request.url is absolute (urlScheme://host + target); keep what follows the authority. A URL cannot say
    // "no path", so request.url spells the asterisk-form (OPTIONS *) "/*", as Deno.serve does: echo it as sent.
    let path = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*(.*)$/i.exec(req.url)?.[1] ?? req.url;
    if (req.method === "OPTIONS" && path === "/*") path = "*";
    return new Response(echo(req.method, path, body));
  }, {
    listen: "127.0.0.1:0",
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  await server.ready;
  return { server, port: server.addrs[0].port };
}

/** The node:http reference, in this process (Node only). Same header limit as ours (waitress's 262144). */
export async function startNodeInProcess(): Promise<{ port: number; close: () => Promise<void> }> {
  const http = await import("node:http");
  const server = http.createServer({ maxHeaderSize: 262144 }, (req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("end", () => {
      const total = chunks.reduce((n, c) => n + c.length, 0);
      const body = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) (body.set(c, at), at += c.length);
      res.end(echo(req.method ?? "", req.url ?? "", body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function isNode(): boolean {
  return !("Deno" in globalThis) && !("Bun" in globalThis);
}

/** The node:http reference: in process on Node, else a child `node` process running tests/fixtures/node-reference.ts. */
export async function startReference(): Promise<{ port: number; close: () => Promise<void> }> {
  if (isNode()) return startNodeInProcess();
  const child = spawn(join(ROOT, "node_modules", ".bin", "node"), [
    join(ROOT, "tests", "fixtures", "node-reference.ts"),
  ], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("reference server did not start")), 10000);
    child.stdout.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", () => reject(new Error("reference server exited")));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.stdin.end(); // the child exits when its stdin closes
        setTimeout(() => child.kill(), 3000).unref?.();
      }),
  };
}

/** What a server did with a case. */
export interface Observed {
  /** One entry per response: "STATUS" or "200 METHOD /path LEN". */
  answers: string[];
  /** The echo lines with digests, for comparing framing exactly. */
  echoes: string[];
  /** The server closed the connection within the wait. */
  closed: boolean;
}

/**
 * Sends `raw` on a fresh connection and collects responses until the server
 * closes, or nothing arrives for `quietMs`, within `maxMs` in all.
 */
export function send(port: number, raw: string, quietMs = 300, maxMs = 3000): Promise<Observed> {
  return new Promise((resolve) => {
    let buf = new Uint8Array(0);
    let closed = false;
    let settled = false;
    const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(quiet);
      clearTimeout(hard);
      socket.destroy();
      const responses = parseResponses(buf, closed);
      resolve({
        answers: responses.map((r) =>
          r.status >= 200 && r.status < 300 ? `${r.status} ${r.text.replace(/ [0-9a-f]{16}$/, "")}` : `${r.status}`
        ),
        echoes: responses.map((r) => `${r.status} ${r.status >= 200 && r.status < 300 ? r.text : ""}`),
        closed,
      });
    };
    const hard = setTimeout(finish, maxMs);
    const rearm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(finish, quietMs);
    };
    socket.on("connect", () => {
      socket.write(latin1(raw));
      rearm();
    });
    socket.on("data", (d: Uint8Array) => {
      const merged = new Uint8Array(buf.length + d.length);
      merged.set(buf);
      merged.set(d, buf.length);
      buf = merged;
      rearm();
    });
    const onClose = () => {
      closed = true;
      finish();
    };
    socket.on("end", onClose);
    socket.on("close", onClose);
    socket.on("error", onClose);
  });
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** How the two servers relate on a case. */
export type Verdict =
  | "agree"
  | "both reject (status differs)"
  | "we reject, node accepts"
  | "we accept, node rejects"
  | "we reject, node waits"
  | "we wait, node rejects"
  | "node stops early"
  | "we stop early"
  | "framing differs";

function finals(o: Observed): string[] {
  return o.echoes.filter((e) => !e.startsWith("100"));
}

/** Compares our outcome with node's (interim 100 responses aside). */
export function verdict(ours: Observed, node: Observed): Verdict {
  const a = finals(ours);
  const b = finals(node);
  if (JSON.stringify(a) === JSON.stringify(b)) return "agree";
  const okA = a.filter((e) => e.startsWith("2"));
  const okB = b.filter((e) => e.startsWith("2"));
  if (okA.length === 0 && okB.length === 0) {
    if (a.length > 0 && b.length > 0) return "both reject (status differs)";
    return a.length > 0 ? "we reject, node waits" : "we wait, node rejects";
  }
  if (okB.length === 0) return "we accept, node rejects";
  if (okA.length === 0) return "we reject, node accepts";
  const prefix = (x: string[], y: string[]) => x.every((e, i) => e === y[i]);
  if (prefix(okA, okB)) return "we stop early";
  if (prefix(okB, okA)) return "node stops early";
  return "framing differs";
}
