/**
 * `Bun.serve` with the benchmark app (the native server on Bun). The idle
 * timeout is raised from 10 s to its maximum so idle keep-alive connections
 * stay open during the RSS measurement.
 *
 * @module
 */
import process from "node:process";
import { handler, portFromEnv } from "./app.ts";

declare const Bun: {
  serve(options: { hostname: string; port: number; idleTimeout: number; fetch: typeof handler }): unknown;
};

Bun.serve({ hostname: "127.0.0.1", port: portFromEnv(process.env), idleTimeout: 255, fetch: handler });
console.log("ready");
