/**
 * A Hono app runs unchanged: Hono apps have a `fetch` method, so the default
 * export is the application. (hono is a devDependency of this repository.)
 *
 *   node cli.ts examples/hono.ts
 *   deno run -A cli.ts examples/hono.ts
 *
 * @module
 */
import { Hono } from "hono";

const app = new Hono();

app.get("/", (c) => c.text("Hello from Hono on waitress!\n"));
app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
app.post("/echo", async (c) => c.text(await c.req.text()));

export default app;
