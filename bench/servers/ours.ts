/**
 * Our engine serving the benchmark app. The same file runs on Node 24
 * (type stripping), Deno (`deno run -A`) and Bun.
 *
 * `connectionLimit` is raised from waitress's default of 100 so that the
 * 256-connection and 1,000-idle-connection scenarios are not queued in the
 * listen backlog; every other option keeps its default (threads = 4,
 * inbufOverflow = 512 KiB, ...).
 *
 * @module
 */
import process from "node:process";
import { serve } from "../../mod.ts";
import { handler, portFromEnv } from "./app.ts";

const server = serve(handler, { listen: `127.0.0.1:${portFromEnv(process.env)}`, connectionLimit: 2000 });
await server.ready;
console.log("ready");

// Exit cleanly on a signal so `node --cpu-prof` writes its profile.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
