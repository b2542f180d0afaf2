/**
 * A bounded soak of the server, loopback only.
 *
 * The parent starts `serve()` in a child process (tests/fixtures/soak-server.ts) under the chosen runtime
 * (node_modules/.bin/{node,deno,bun}) and drives it over 127.0.0.1 with many
 * thousands of connections and (by default) a million requests, mixing
 * keep-alive sequences, pipelined bursts, uploads above inbufOverflow,
 * abrupt disconnects mid-request and mid-response, and requests to a route
 * that throws. Every response echoes the id of its request, so the driver
 * counts lost and misordered responses. The child reports its RSS, heap,
 * `server.stats()` and temporary files on stdout when asked on stdin; the
 * parent reads the child's open descriptors from /proc/<pid>/fd.
 *
 * The parts live in tests/support/soak_*.ts: the run's shared state
 * (soak_run.ts), the client and its requests and response parsing
 * (soak_client.ts, soak_requests.ts, soak_response.ts), the scenarios
 * (soak_scenarios.ts), the load (soak_load.ts), the child process and its
 * protocol (soak_child.ts, soak_protocol.ts), memory readings
 * (soak_memory.ts), the shutdown under load (soak_shutdown.ts), the verdict
 * (soak_verdict.ts), the options (soak_options.ts) and the phases in order
 * (soak_main.ts). This file is the entry point.
 *
 * At the end: memory within 10% of its post-warm-up level (after a settle
 * period and a GC; on Node and Deno with glibc's allocator, judged after malloc_trim(0)
 * or with `--preload` jemalloc, see below), no temporary file (stats().tempFiles and the child's
 * private TMPDIR), descriptors back to baseline; then `shutdown()` during a
 * final burst must lose no response the application produced. Exits
 * non-zero on any failure.
 *
 *   node scripts/soak.ts [--runtime node|deno|bun] [--requests N] [--connections N]
 *                        [--seconds N] [--quick] [--seed N] [--without kind,kind]
 *                        [--preload /path/to/lib.so] [--trim-check]
 *
 * `--quick` is the CI version (~20k requests, well under 20 s). `--without`
 * drops scenario kinds from the mix (keepalive, pipeline, upload, abort-head,
 * abort-body, abort-response, throw). `--preload` puts a library in the
 * child's LD_PRELOAD (an allocator such as jemalloc); `--trim-check` reports
 * RSS after glibc's malloc_trim(0), called through gdb, next to the end RSS.
 *
 * The memory criterion on Node and Deno: glibc's malloc keeps pages the
 * garbage collector freed (docs/soak.md), which says nothing about the
 * server. So on Node and Deno without `--preload`, the trim check always runs
 * and the criterion is judged on the RSS after malloc_trim(0); without gdb it
 * is reported and not judged. With `--preload` (jemalloc gives free pages
 * back) and on Bun, the end RSS itself is judged.
 *
 * @module
 */
import process from "node:process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runSoak } from "../tests/support/soak_main.ts";
import { parseSoakArgs } from "../tests/support/soak_options.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Parses the command line and runs the soak; resolves to the exit code. */
async function main(): Promise<number> {
  return await runSoak(root, parseSoakArgs(process.argv.slice(2)));
}

const code = await main().catch((e) => {
  console.error(`soak: ${(e as Error).stack ?? e}`);
  return 2;
});
process.exit(code);
