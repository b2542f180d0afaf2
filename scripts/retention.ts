/**
 * A reduced reproduction of the memory Node keeps after bursts of streamed
 * responses (docs/soak.md, "Node's memory"). Loopback only, bounded.
 *
 * A child serves one route, a 3.2 MiB stream in 16 KiB chunks, with our
 * engine or with @hono/node-server (node:http). 32 clients fetch it 60 times
 * each per round, read 1 KiB to 512 KiB, and hang up. After each round the
 * child runs a full GC, and its RSS is printed.
 *
 *   node scripts/retention.ts [--server ours|hono] [--shared-chunk] [--rounds N]
 *
 * `--shared-chunk` makes the app enqueue one shared array instead of a fresh
 * copy per chunk, which separates the app's allocations from the server's.
 *
 * @module
 */
import process from "node:process";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { parseArgs } from "node:util";

const CHUNKS = 200;
const CHUNK = 16 * 1024;

async function child(server: string, shared: boolean): Promise<void> {
  const chunk = new Uint8Array(CHUNK).fill(115);
  const app = (): Response => {
    let left = CHUNKS;
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (left-- <= 0) controller.close();
          else controller.enqueue(shared ? chunk : chunk.slice());
        },
      }, { highWaterMark: 0 }),
    );
  };
  const gc = (globalThis as { gc?: (options?: object) => void }).gc;
  process.stdin.on("data", () => {
    gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
    process.stdout.write("done\n");
  });
  if (server === "hono") {
    const { serve } = await import("@hono/node-server");
    serve({ fetch: app, port: 0, hostname: "127.0.0.1" }, (info) => console.log(info.port));
  } else {
    const { serve } = await import("../mod.ts");
    const s = serve(app, { listen: "127.0.0.1:0", logger: { info() {}, warn() {}, error() {} } });
    await s.ready;
    console.log(s.addrs[0].port);
  }
}

function fetchAndHangUp(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const want = 1024 + Math.floor(Math.random() * 512 * 1024);
    let got = 0;
    socket.on("data", (d) => {
      got += d.length;
      if (got >= want) socket.destroy();
    });
    socket.on("close", () => resolve());
    socket.on("error", () => {});
    socket.setTimeout(10_000, () => socket.destroy());
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  });
}

async function parent(): Promise<void> {
  const { values } = parseArgs({
    options: {
      server: { type: "string", default: "ours" },
      "shared-chunk": { type: "boolean", default: false },
      rounds: { type: "string", default: "6" },
    },
  });
  const self = new URL(import.meta.url).pathname;
  const args = ["--expose-gc", self, "--child", values.server, values["shared-chunk"] ? "shared" : "fresh"];
  const proc = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  let wake: (() => void) | null = null;
  proc.stdout.on("data", (d: Buffer) => {
    lines.push(...String(d).trim().split("\n"));
    wake?.();
  });
  const nextLine = async (): Promise<string> => {
    while (lines.length === 0) await new Promise<void>((r) => (wake = r));
    return lines.shift()!;
  };
  const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, "utf8"))![1]) / 1024;
  try {
    const port = Number(await nextLine());
    console.log(
      `${values.server}, ${values["shared-chunk"] ? "shared chunk" : "fresh chunks"}: start ${rssMiB().toFixed(1)} MiB`,
    );
    for (let round = 0; round < Number(values.rounds); round++) {
      await Promise.all(Array.from({ length: 32 }, async () => {
        for (let i = 0; i < 60; i++) await fetchAndHangUp(port);
      }));
      proc.stdin.write("gc\n");
      await nextLine();
      console.log(`round ${round + 1}: RSS after GC ${rssMiB().toFixed(1)} MiB`);
    }
  } finally {
    proc.kill();
  }
}

if (process.argv[2] === "--child") await child(process.argv[3], process.argv[4] === "shared");
else await parent();
