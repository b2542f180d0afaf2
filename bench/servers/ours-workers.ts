/**
 * Our engine in `BENCH_WORKERS` worker processes under the supervisor, as a
 * program that calls `serve()` itself runs it (README, "Several
 * processes"): the supervisor binds the port and hands each connection to a
 * worker; each worker serves the benchmark app with the same options as
 * `ours.ts`. With `BENCH_WORKERS=1` (the default) it is one process and no
 * supervisor, exactly as `waitress-serve` runs without `--workers`.
 *
 * @module
 */
import process from "node:process";
import { isWorker, serve, supervise } from "../../mod.ts";
import { handler, portFromEnv } from "./app.ts";

const workers = Number(process.env.BENCH_WORKERS ?? "1");
const options = { listen: `127.0.0.1:${portFromEnv(process.env)}`, connectionLimit: 2000 };

if (workers > 1 && !isWorker()) {
  process.exit(await supervise({ workers, options }));
} else {
  const server = serve(handler, options);
  await server.ready;
  // A worker's supervisor stops it; on its own it exits on a signal, as ours.ts does.
  const exit = () => process.exit(0);
  if (!isWorker()) process.on("SIGINT", exit).on("SIGTERM", exit);
}
