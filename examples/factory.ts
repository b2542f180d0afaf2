/**
 * Application factories for `--call`: waitress-serve calls the named
 * function with no arguments (awaiting it when it returns a promise) and
 * serves what it returns.
 *
 *   node cli.ts --call examples/factory.ts:createApp
 *   node cli.ts --call examples/factory.ts:createAppAsync
 *
 * @module
 */
import process from "node:process";
import type { Handler } from "../mod.ts";

/** Builds the app from the environment, as a factory usually does. */
export function createApp(): Handler {
  const greeting = process.env.GREETING ?? "Hello";
  return (request) => new Response(`${greeting}, ${new URL(request.url).pathname}\n`);
}

/** An async factory: set-up work (opening a database, reading config) happens before serving. */
export async function createAppAsync(): Promise<{ fetch: Handler }> {
  const startedAt = await Promise.resolve(new Date().toISOString());
  return { fetch: () => new Response(`up since ${startedAt}\n`) };
}
