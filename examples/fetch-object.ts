/**
 * The shape Deno (`deno serve`), Bun and Cloudflare use: a default export
 * with a `fetch` method. waitress-serve calls it with `this` bound to the
 * object, so methods can use other members.
 *
 *   node cli.ts examples/fetch-object.ts
 *
 * @module
 */

/** A tiny JSON API with an in-memory counter. */
const app: { hits: number; fetch(request: Request): Response } = {
  hits: 0,
  fetch(request: Request): Response {
    const { pathname } = new URL(request.url);
    if (pathname === "/count") return Response.json({ hits: ++this.hits });
    return new Response("try /count\n", { status: 404 });
  },
};

export default app;
