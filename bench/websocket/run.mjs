#!/usr/bin/env node
// The WebSocket echo benchmark: 32 B and 64 KiB binary messages, one in
// flight per connection on 50 connections, our engine on Node, Deno and Bun
// against Deno.upgradeWebSocket, Bun.serve's websocket and `ws` on Node.
// Rounds are interleaved (every target once per round) so that noise from
// other processes spreads over all of them; the median is reported.
//
//   node bench/websocket/run.mjs [--quick] [--rounds=N] [--seconds=S] [--targets=a,b]
//
// Plain JavaScript so that it runs on whatever Node started it.
import { spawn } from "node:child_process";
import net from "node:net";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const argv = process.argv.slice(2);
const value = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = argv.includes("--quick");
const rounds = Number(value("rounds") ?? (quick ? 1 : 3));
const seconds = Number(value("seconds") ?? (quick ? 1 : 4));
const connections = Number(value("connections") ?? 50);
const sizes = (value("sizes") ?? "32,65536").split(",").map(Number);

const TARGETS = {
  "ours-node": [bin("node"), join(here, "ours.ts")],
  "ours-deno": [bin("deno"), "run", "-A", join(here, "ours.ts")],
  "ours-bun": [bin("bun"), join(here, "ours.ts")],
  "deno-native": [bin("deno"), "run", "-A", join(here, "deno.ts")],
  "bun-native": [bin("bun"), join(here, "bun.ts")],
  "ws-node": [bin("node"), join(here, "ws-node.mjs")],
};
const chosen = value("targets")?.split(",") ?? Object.keys(TARGETS);

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer(cmd) {
  const port = await freePort();
  const child = spawn(cmd[0], cmd.slice(1), {
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd.join(" ")} did not start`)), 30_000);
    child.stdout.on("data", (d) => {
      if (String(d).includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`${cmd.join(" ")} exited ${code}`)));
  });
  return { child, port };
}

function runClient(port, size) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin("node"), [
      join(here, "client.mjs"),
      `--port=${port}`,
      `--connections=${connections}`,
      `--size=${size}`,
      `--seconds=${seconds}`,
      `--warmup=${quick ? 0.3 : 1}`,
    ], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => {
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1)));
      } catch {
        reject(new Error(`client exited ${code}: ${out}`));
      }
    });
  });
}

const results = {};
for (let round = 0; round < rounds; round++) {
  for (const name of chosen) {
    const server = await startServer(TARGETS[name]);
    try {
      for (const size of sizes) {
        const r = await runClient(server.port, size);
        (results[`${name} ${size}`] ??= []).push(r.messagesPerSecond);
        console.error(`round ${round + 1} ${name} ${size} B: ${r.messagesPerSecond} msg/s`);
      }
    } finally {
      server.child.kill("SIGTERM");
      await new Promise((r) => server.child.once("exit", r));
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\n| target | ${sizes.map((s) => `${s} B msg/s`).join(" | ")} |`);
console.log(`| --- | ${sizes.map(() => "---:").join(" | ")} |`);
for (const name of chosen) {
  console.log(`| ${name} | ${sizes.map((s) => median(results[`${name} ${s}`])).join(" | ")} |`);
}
