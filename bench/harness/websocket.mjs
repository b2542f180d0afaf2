// The WebSocket echo scenario: 32 B and 64 KiB binary messages, one in
// flight per connection on 50 connections (bench/websocket/client.mjs, on
// `ws`), against our engine on Node, Deno and Bun, Deno.upgradeWebSocket,
// Bun.serve's websocket and `ws` on Node (bench/websocket/*). Every round
// runs each target once (interleaved, so noise spreads over all of them);
// a target is started for its round and stopped after it.
import { spawn } from "node:child_process";
import net from "node:net";
import { join } from "node:path";
import { bin, children, CLIENT_CORE, HOST, log, median, root, SERVER_CORE } from "./common.mjs";
import { config, list } from "./options.mjs";
import { waitQuiet } from "./proc.mjs";
import { fmt } from "./render.mjs";
import { pinned } from "./tools.mjs";

export const WS_SIZES = [32, 65536];
const CONNECTIONS = 50;

const dir = join(root, "bench", "websocket");
export const WS_TARGETS = [
  { id: "ours-node", label: "ours on Node", cmd: [bin("node"), join(dir, "ours.ts")], reference: "ws-node" },
  {
    id: "ours-deno",
    label: "ours on Deno",
    cmd: [bin("deno"), "run", "-A", join(dir, "ours.ts")],
    reference: "deno-native",
  },
  { id: "ours-bun", label: "ours on Bun", cmd: [bin("bun"), join(dir, "ours.ts")], reference: "bun-native" },
  { id: "deno-native", label: "Deno.upgradeWebSocket", cmd: [bin("deno"), "run", "-A", join(dir, "deno.ts")] },
  { id: "bun-native", label: "Bun.serve websocket", cmd: [bin("bun"), join(dir, "bun.ts")] },
  { id: "ws-node", label: "ws (npm) on Node", cmd: [bin("node"), join(dir, "ws-node.mjs")] },
];

/** The issue's targets: ours / reference at least this, per size. */
export const WS_GOALS = { "ours-node": 1.0, "ours-deno": 0.7, "ours-bun": 0.5 };

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function start(target, tools) {
  const port = await freePort();
  const [cmd, args] = pinned(SERVER_CORE, target.cmd[0], target.cmd.slice(1), tools);
  const child = spawn(cmd, args, { env: { ...process.env, PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let output = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${target.id} did not start: ${output}`)), 30_000);
    const onData = (d) => {
      output += d;
      if (output.includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (d) => (output += d));
    child.on("exit", (code) => reject(new Error(`${target.id} exited ${code}: ${output}`)));
  });
  return { child, port };
}

async function stop(server) {
  children.delete(server.child);
  if (server.child.exitCode !== null) return;
  const exited = new Promise((r) => server.child.once("exit", r));
  server.child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (server.child.exitCode === null) server.child.kill("SIGKILL");
}

function runClient(port, size, tools) {
  const seconds = config.durationS;
  const [cmd, args] = pinned(CLIENT_CORE, bin("node"), [
    join(dir, "client.mjs"),
    `--port=${port}`,
    `--connections=${CONNECTIONS}`,
    `--size=${size}`,
    `--seconds=${seconds}`,
    `--warmup=${config.quick ? 0.3 : Math.max(1, config.warmupS)}`,
  ], tools);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => {
      children.delete(child);
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1)));
      } catch {
        resolve({ error: `client exited ${code}: ${out.slice(-300)}` });
      }
    });
  });
}

/** Runs the scenario; returns { [target]: { [size]: { median, samples, error? } } }. */
export async function runWebSocketScenario(tools) {
  const wanted = list("targets");
  const targets = WS_TARGETS.filter((t) => !wanted || wanted.includes(t.id));
  const samples = {};
  const rounds = Math.min(config.rounds, config.quick ? 1 : 3);
  for (let round = 0; round < rounds; round++) {
    for (const t of targets) {
      await waitQuiet();
      let server;
      try {
        server = await start(t, tools);
      } catch (error) {
        log(`  websocket ${t.id}: ${error.message}`);
        continue;
      }
      try {
        for (const size of WS_SIZES) {
          const r = await runClient(server.port, size, tools);
          (samples[t.id] ??= {})[size] ??= [];
          samples[t.id][size].push(r.error ? NaN : r.messagesPerSecond);
          log(
            `  round ${round + 1}/${rounds} websocket ${t.id} ${size} B: ${
              r.error ?? `${fmt(r.messagesPerSecond)} msg/s`
            }`,
          );
        }
      } finally {
        await stop(server);
      }
    }
  }
  const results = {};
  for (const [id, bySize] of Object.entries(samples)) {
    results[id] = {};
    for (const [size, xs] of Object.entries(bySize)) {
      const ok = xs.filter((x) => Number.isFinite(x));
      results[id][size] = { median: ok.length ? median(ok) : NaN, samples: xs };
    }
  }
  return results;
}

/** Rows for textTable: each target's median msg/s per size, and ours / reference against the goal. */
export function webSocketRows(results) {
  const header = ["target", ...WS_SIZES.map((s) => `${s} B msg/s`), ...WS_SIZES.map((s) => `${s} B ratio (goal)`)];
  const rows = WS_TARGETS.filter((t) => results[t.id]).map((t) => {
    const cells = WS_SIZES.map((s) => fmt(results[t.id][s]?.median));
    const ratios = WS_SIZES.map((s) => {
      if (!t.reference || !results[t.reference]) return "";
      const ratio = results[t.id][s]?.median / results[t.reference][s]?.median;
      return `${fmt(ratio, 2)}x vs ${t.reference} (>= ${WS_GOALS[t.id]})`;
    });
    return [t.label, ...cells, ...ratios];
  });
  return { header, rows };
}
