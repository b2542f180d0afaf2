/**
 * `Deno.serve` with the benchmark app (the native server on Deno).
 *
 * @module
 */
import process from "node:process";
import { handler, portFromEnv } from "./app.ts";

Deno.serve({ hostname: "127.0.0.1", port: portFromEnv(process.env), onListen: () => console.log("ready") }, handler);
