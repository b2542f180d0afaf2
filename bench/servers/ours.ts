/**
 * Our engine serving the benchmark app. The same file runs on Node 24
 * (type stripping), Deno (`deno run -A`) and Bun.
 *
 * `connectionLimit` is raised from waitress's default of 100 so that the
 * 256-connection and 1,000-idle-connection scenarios are not queued in the
 * listen backlog; every other option keeps its default (threads = 4,
 * inbufOverflow = 512 KiB, ...).
 *
 * `BENCH_INBUF_OVERFLOW` in the environment overrides `inbufOverflow`: the
 * benchmark's `inmem-*` targets raise it so that 1 MiB uploads stay in memory,
 * which shows what waitress's spill to a temporary file costs.
 *
 * `BENCH_TLS_CERT` and `BENCH_TLS_KEY` (PEM paths) serve HTTPS instead, and
 * `BENCH_ACCESS_LOG` turns the access log on (a path, or `-`).
 *
 * `BENCH_FAST=1` answers `GET /` with a {@linkcode FastResponse} instead of
 * a standard Response (the `fast-*` targets); every other route is the app's.
 *
 * @module
 */
import process from "node:process";
import { FastResponse, serve } from "../../mod.ts";
import { handler, portFromEnv } from "./app.ts";

const inbufOverflow = process.env.BENCH_INBUF_OVERFLOW ? Number(process.env.BENCH_INBUF_OVERFLOW) : undefined;
const env = process.env;
/** `GET /` as FastResponse; the app's own routes otherwise (the URL's path is all that is looked at). */
const fastHandler = (request: Request): Response | Promise<Response> =>
  request.url.endsWith("/") && request.url.indexOf("/", request.url.indexOf("//") + 2) === request.url.length - 1
    ? new FastResponse("Hello World") as unknown as Response
    : handler(request);
const server = serve(env.BENCH_FAST === "1" ? fastHandler : handler, {
  listen: `127.0.0.1:${portFromEnv(env)}`,
  connectionLimit: 2000,
  ...(inbufOverflow === undefined ? {} : { inbufOverflow }),
  ...(env.BENCH_TLS_CERT ? { certfile: env.BENCH_TLS_CERT, keyfile: env.BENCH_TLS_KEY } : {}),
  ...(env.BENCH_ACCESS_LOG ? { accessLogfile: env.BENCH_ACCESS_LOG } : {}),
});
await server.ready;
console.log("ready");

// Exit cleanly on a signal so `node --cpu-prof` writes its profile.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
