/**
 * The engine's own cost per request, without sockets: a hello-world request
 * is fed to a Channel over an in-memory Connection, the handler answers, the
 * response is "written" (counted), and the next request goes in. What the
 * wrk scenarios add on top is the system calls and the runtime's socket
 * layer; the socket floor targets (`raw-*`) measure those alone.
 *
 *   node bench/engine.ts                  plain Response, default 5 x 50,000 requests
 *   node bench/engine.ts --fast           FastResponse
 *   deno run -A bench/engine.ts ...       bun bench/engine.ts ...
 *   --requests=N --rounds=N
 *
 * Prints the median microseconds per request over the rounds (after a
 * warm-up round). Bounded: rounds x requests, in memory only.
 *
 * @module
 */
import process from "node:process";
import { resolveAdjustments } from "../lib/adjustments.ts";
import { Channel, type ChannelHost } from "../lib/channel.ts";
import { Dispatcher } from "../lib/dispatcher.ts";
import { FastResponse } from "../lib/response.ts";
import type { Connection, ConnectionHandlers } from "../lib/socket/types.ts";

const argv = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const found = argv.find((a) => a.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.slice(name.length + 3));
};
const fast = argv.includes("--fast");
const perRound = option("requests", 50_000);
const rounds = option("rounds", 5);

const request = new TextEncoder().encode(
  "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n",
);

/** A Connection whose every write is taken at once; each write feeds the next request. */
class LoopbackConnection implements Connection {
  readonly remote = { transport: "tcp" as const, hostname: "127.0.0.1", port: 40000 };
  readonly gathersWrites = true;
  readonly bufferedAmount = 0;
  writes = 0;
  target = 0;
  finished: () => void = () => {};
  #handlers: ConnectionHandlers | null = null;

  start(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
  }
  /** Delivers one request, as a socket read would. */
  feed = (): void => {
    this.#handlers?.onData(request);
  };
  write(_data: Uint8Array): boolean {
    if (++this.writes === this.target) this.finished();
    else queueMicrotask(this.feed);
    return true;
  }
  writev(parts: readonly Uint8Array[]): boolean {
    return this.write(parts[0]);
  }
  pauseReading(): void {}
  resumeReading(): void {}
  closeWrite(): void {}
  close(): void {}
  destroy(): void {}
}

const adj = resolveAdjustments({});
const host: ChannelHost = {
  adj,
  logger: { info() {}, warn() {}, error: (message) => console.error(message) },
  dispatcher: new Dispatcher(adj.threads),
  handler: () => fast ? new FastResponse("Hello World") as unknown as Response : new Response("Hello World"),
  draining: false,
  channelClosed() {},
};
const conn = new LoopbackConnection();
new Channel(conn, host, 8080);

/** Runs `n` requests back to back; resolves to microseconds per request. */
async function round(n: number): Promise<number> {
  conn.target = conn.writes + n;
  const done = new Promise<void>((resolve) => conn.finished = resolve);
  const started = performance.now();
  conn.feed();
  await done;
  return (performance.now() - started) * 1000 / n;
}

await round(Math.min(perRound, 20_000));
const results: number[] = [];
for (let i = 0; i < rounds; i++) results.push(await round(perRound));
results.sort((a, b) => a - b);
const median = results[Math.floor(results.length / 2)];
console.log(
  `${fast ? "FastResponse" : "Response"}: ${median.toFixed(2)} µs per request ` +
    `(median of ${rounds} x ${perRound}; min ${results[0].toFixed(2)}, max ${results.at(-1)!.toFixed(2)})`,
);
