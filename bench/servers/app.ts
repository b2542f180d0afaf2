/**
 * The benchmark application, shared by every Fetch-based target (ours on
 * three runtimes, Deno.serve, Bun.serve, @hono/node-server), so that only the
 * server differs. node:http and waitress implement the same three routes by
 * hand (node-http.mjs, waitress_app.py).
 *
 * - `GET /`            -> "Hello World" (text/plain)
 * - `POST /upload`     -> reads the whole body, answers its length in bytes
 * - `GET /stream?mib=N` -> a ReadableStream of N MiB (default 64) in 64 KiB chunks
 *
 * @module
 */

const CHUNK = 64 * 1024;

/** Path and query of an absolute request URL, without building a URL object. */
function pathAndQuery(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return start < 0 ? "/" : url.slice(start);
}

/** A stream of `mib` MiB of zero bytes, produced on demand in 64 KiB chunks. */
export function zeroStream(mib: number): ReadableStream<Uint8Array> {
  let left = mib * 16;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left-- > 0) controller.enqueue(new Uint8Array(CHUNK));
      else controller.close();
    },
  });
}

/** How many MiB `/stream?mib=N` asks for. */
export function streamMiB(pathQuery: string): number {
  const m = /[?&]mib=(\d+)/.exec(pathQuery);
  return m ? Number(m[1]) : 64;
}

/** The Fetch handler every Fetch-based target serves. */
export function handler(request: Request): Response | Promise<Response> {
  const pq = pathAndQuery(request.url);
  if (pq === "/") return new Response("Hello World");
  if (pq === "/upload") {
    return request.arrayBuffer().then((body) => new Response(String(body.byteLength)));
  }
  if (pq.startsWith("/stream")) {
    return new Response(zeroStream(streamMiB(pq)), { headers: { "content-type": "application/octet-stream" } });
  }
  return new Response("Not Found", { status: 404 });
}

/** The port to listen on, from the PORT environment variable. */
export function portFromEnv(env: Record<string, string | undefined>): number {
  const port = Number(env.PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error("set PORT");
  return port;
}
