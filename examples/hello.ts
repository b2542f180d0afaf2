/**
 * The smallest app: a Fetch handler as the default export.
 *
 *   node cli.ts examples/hello.ts          (npm start)
 *   deno run -A cli.ts --listen=127.0.0.1:8080 examples/hello.ts
 *   bun cli.ts --threads=8 examples/hello.ts
 *
 * @module
 */
import type { ServeInfo } from "../mod.ts";

/** Greets the caller and echoes where the request came from. */
export default function hello(request: Request, info: ServeInfo): Response {
  const url = new URL(request.url);
  const body = `Hello from waitress for TypeScript!\n\n` +
    `${request.method} ${url.pathname}${url.search}\n` +
    `from ${info.remoteAddr.hostname}:${info.remoteAddr.port}` +
    (info.urlPrefix ? `, mounted at ${info.urlPrefix}` : "") + "\n";
  return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
}
