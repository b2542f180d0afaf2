/**
 * `Bun.serve` with the benchmark app (the native server on Bun). The idle
 * timeout is raised from 10 s to its maximum so idle keep-alive connections
 * stay open during the RSS measurement. HTTPS when `BENCH_TLS_CERT` and
 * `BENCH_TLS_KEY` name PEM files.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { handler, portFromEnv } from "./app.ts";

declare const Bun: {
  serve(
    options: {
      hostname: string;
      port: number;
      idleTimeout: number;
      fetch: typeof handler;
      tls?: { cert: string; key: string };
    },
  ): unknown;
};

const env = process.env;
const tls = env.BENCH_TLS_CERT
  ? { cert: readFileSync(env.BENCH_TLS_CERT, "utf8"), key: readFileSync(env.BENCH_TLS_KEY!, "utf8") }
  : undefined;
Bun.serve({ hostname: "127.0.0.1", port: portFromEnv(env), idleTimeout: 255, fetch: handler, tls });
console.log("ready");
