/**
 * `Deno.serve` with the benchmark app (the native server on Deno); HTTPS
 * when `BENCH_TLS_CERT` and `BENCH_TLS_KEY` name PEM files.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { handler, portFromEnv } from "./app.ts";

const env = process.env;
const tls = env.BENCH_TLS_CERT
  ? { cert: readFileSync(env.BENCH_TLS_CERT, "utf8"), key: readFileSync(env.BENCH_TLS_KEY!, "utf8") }
  : {};
Deno.serve(
  { hostname: "127.0.0.1", port: portFromEnv(env), onListen: () => console.log("ready"), ...tls },
  handler,
);
