/**
 * The engine's own cost per request, without sockets: a hello-world request
 * (or, with --upload, a POST whose body the app reads whole)
 * is fed to a Channel over an in-memory Connection, the handler answers, the
 * response is "written" (counted), and the next request goes in. What the
 * wrk scenarios add on top is the system calls and the runtime's socket
 * layer; the socket floor targets (`raw-*`) measure those alone.
 *
 *   node bench/engine.ts                  plain Response, default 5 x 50,000 requests
 *   node bench/engine.ts --fast           FastResponse
 *   deno run -A bench/engine.ts ...       bun bench/engine.ts ...
 *   --requests=N --rounds=N
 *   --connections=N                       N connections taking turns (default 1): a larger
 *                                         working set, as with many clients
 *   --upload=KiB                          POST bodies of that size, fed in 128 KiB reads, read
 *                                         whole by the app (request.arrayBuffer())
 *   --inbuf-overflow=bytes                waitress's inbufOverflow (default 512 KiB: larger
 *                                         bodies go to a temporary file)
 *   --access-log                          the access log on, default format, written to /dev/null
 *
 * Prints the median microseconds per request over the rounds (after a
 * warm-up round), wall clock and CPU time (the latter is the steadier figure
 * on a shared machine). Bounded: rounds x requests, in memory only.
 *
 * @module
 */
import { compileAccessFormat } from "../lib/access_log.ts";
import { LogFile } from "../lib/log_file.ts";
import process from "node:process";
import { resolveAdjustments } from "../lib/adjustments.ts";
import { Channel, type ChannelServer } from "../lib/channel.ts";
import { Dispatcher } from "../lib/dispatcher.ts";
import { FastResponse } from "../lib/response.ts";
import { MemoryConnection } from "../tests/support/memory_connection.ts";

const argv = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const found = argv.find((a) => a.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.slice(name.length + 3));
};
const fast = argv.includes("--fast");
const accessLogFile = argv.includes("--access-log") ? new LogFile("/dev/null") : null;
const accessFormat = compileAccessFormat();
const uploadKiB = option("upload", 0);
const connections = option("connections", 1);
const perRound = option("requests", uploadKiB > 0 ? 2_000 : 50_000);
const rounds = option("rounds", 5);

const encoder = new TextEncoder();
/** What one request's arrival looks like: a list of socket reads. */
const reads: Uint8Array[] = uploadKiB > 0 ? uploadReads(uploadKiB * 1024) : [
  encoder.encode("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"),
];

/** A POST of `size` bytes: the head, then the body in 128 KiB reads (a common read size on loopback). */
function uploadReads(size: number): Uint8Array[] {
  const head = `POST /upload HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: ${size}\r\n\r\n`;
  const out = [encoder.encode(head)];
  for (let at = 0; at < size; at += 131072) out.push(new Uint8Array(Math.min(131072, size - at)).fill(97));
  return out;
}

/** Writes so far and the count that ends the round, shared by all connections. */
const progress = { writes: 0, target: 0, finished: (): void => {} };

/**
 * The in-memory Connection, except that a write is counted, not kept.
 * Connections form a ring: a response on one feeds the next request to the
 * next one, as a server with many clients each waiting for its answer sees it.
 */
class LoopbackConnection extends MemoryConnection {
  next: LoopbackConnection = this;
  /** Delivers one request, as socket reads would. */
  feed = (): void => {
    for (let i = 0; i < reads.length; i++) this.send(reads[i]);
  };
  override write(_data: Uint8Array): boolean {
    if (++progress.writes === progress.target) progress.finished();
    else queueMicrotask(this.next.feed);
    return true;
  }
  override writev(parts: readonly Uint8Array[]): boolean {
    return this.write(parts[0]);
  }
}

const inbufOverflow = option("inbuf-overflow", 0);
const adj = resolveAdjustments(inbufOverflow > 0 ? { inbufOverflow } : {});
const server: ChannelServer = {
  adj,
  logger: { info() {}, warn() {}, error: (message) => console.error(message) },
  dispatcher: new Dispatcher(adj.threads),
  handler: uploadKiB > 0
    ? (request) => request.arrayBuffer().then((body) => new Response(String(body.byteLength)))
    : () => fast ? new FastResponse("Hello World") as unknown as Response : new Response("Hello World"),
  draining: false,
  accessLog: accessLogFile === null ? null : (record) => accessLogFile.write(accessFormat(record)),
  channelClosed() {},
};
const ring = Array.from({ length: Math.max(1, connections) }, () => new LoopbackConnection());
ring.forEach((conn, i) => {
  conn.next = ring[(i + 1) % ring.length];
  new Channel(conn, server);
});

/** CPU time this process used (user and system), in microseconds. */
function cpuMicros(): number {
  const used = process.cpuUsage();
  return used.user + used.system;
}

/** CPU microseconds per request in each round: unlike wall time, not inflated by waiting for a shared core. */
const cpuResults: number[] = [];

/** Runs `n` requests back to back; resolves to (wall-clock) microseconds per request. */
async function round(n: number): Promise<number> {
  progress.target = progress.writes + n;
  const done = new Promise<void>((resolve) => progress.finished = resolve);
  const cpu = cpuMicros();
  const started = performance.now();
  ring[0].feed();
  await done;
  const wall = (performance.now() - started) * 1000 / n;
  cpuResults.push((cpuMicros() - cpu) / n);
  return wall;
}

await round(Math.min(perRound, uploadKiB > 0 ? 500 : 20_000));
cpuResults.length = 0;
const results: number[] = [];
for (let i = 0; i < rounds; i++) results.push(await round(perRound));
results.sort((a, b) => a - b);
cpuResults.sort((a, b) => a - b);
const median = results[Math.floor(results.length / 2)];
console.log(
  `${uploadKiB > 0 ? `${uploadKiB} KiB upload` : fast ? "FastResponse" : "Response"}: ${
    median.toFixed(2)
  } µs per request ` +
    `(median of ${rounds} x ${perRound}; min ${results[0].toFixed(2)}, max ${results.at(-1)!.toFixed(2)}; ` +
    `CPU µs per request: median ${cpuResults[Math.floor(rounds / 2)].toFixed(2)}, min ${cpuResults[0].toFixed(2)})`,
);
