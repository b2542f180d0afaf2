/**
 * What counts as an application, and the one place that turns one into the
 * function the engine calls: `serve()` and the command line both use it.
 *
 * @module
 */
import type { Handler } from "./types.ts";

/** How a value that is not an application is described in an error: "a number", "null", "an array", ... */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const t = typeof value;
  return t === "object" ? "an object without a fetch method" : t === "undefined" ? "undefined" : `a ${t}`;
}

/** True for a value with a callable `fetch` member (a Hono, h3 or Elysia app, `export default { fetch }`). */
function hasFetchMethod(value: unknown): value is { fetch: Handler } {
  const objectLike = (typeof value === "object" && value !== null) || typeof value === "function";
  return objectLike && typeof (value as { fetch?: unknown }).fetch === "function";
}

/**
 * The application as a plain function: an object's `fetch` method bound to
 * it (checked first, so that a callable framework object is served through
 * its fetch method), or the function itself. Throws a TypeError naming
 * `what` and what it got for anything else.
 */
export function handlerOf(app: unknown, what: string = "The app given to serve()"): Handler {
  if (hasFetchMethod(app)) return app.fetch.bind(app);
  if (typeof app === "function") return app as Handler;
  throw new TypeError(
    `${what} is not an application: expected a function (request, info) => Response ` +
      `or an object with a fetch method, got ${describeValue(app)}`,
  );
}
