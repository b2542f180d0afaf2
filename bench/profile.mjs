#!/usr/bin/env node
// CPU profile of our engine on Node 24 under a wrk load, summarised as the
// functions with the most self time (and the files they live in).
//
//   node bench/profile.mjs                 hello world, 50 connections, 10 s
//   node bench/profile.mjs --scenario=pipeline --duration=5
//   node bench/profile.mjs --server=node-http.mjs   profile another server script
//   node bench/profile.mjs --runtime=deno           profile under Deno (deno run --cpu-prof)
//   node bench/profile.mjs --file=bench/out/x.cpuprofile   summarise an existing profile
//
// The raw .cpuprofile lands in bench/out/ (open it in Chrome DevTools or
// speedscope for the call tree).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, "..");
const outDir = join(benchDir, "out");
const argv = process.argv.slice(2);
const value = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const PORT = Number(value("port") ?? 18199);
const duration = Number(value("duration") ?? 10);
const scenario = value("scenario") ?? "hello";
const top = Number(value("top") ?? 30);
const SCRIPTS = {
  hello: ["hello.lua", 50, "/"],
  pipeline: ["pipeline.lua", 50, "/"],
  lat256: ["hello.lua", 256, "/"],
  upload: ["upload.lua", 8, "/upload"],
  stream: ["hello.lua", 1, "/stream?mib=64"],
};

function get(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", () => resolve(0));
  });
}

async function profile() {
  mkdirSync(outDir, { recursive: true });
  const before = new Set(readdirSync(outDir));
  const serverScript = join(benchDir, "servers", value("server") ?? "ours.ts");
  const runtime = value("runtime") ?? "node";
  const cmd = runtime === "deno"
    ? [join(root, "node_modules", ".bin", "deno"), "run", "-A", "--cpu-prof", `--cpu-prof-dir=${outDir}`, serverScript]
    : [join(root, "node_modules", ".bin", "node"), "--cpu-prof", `--cpu-prof-dir=${outDir}`, serverScript];
  const server = spawn(
    "taskset",
    ["-c", "0", ...cmd],
    { cwd: root, env: { ...process.env, PORT: String(PORT) }, stdio: "inherit" },
  );
  const exited = new Promise((r) => server.on("exit", r));
  for (let i = 0; i < 100 && (await get(PORT)) !== 200; i++) await sleep(100);
  const [script, conns, path] = SCRIPTS[scenario];
  const wrk = spawnSync("taskset", [
    "-c",
    "1",
    "wrk",
    "-t1",
    `-c${conns}`,
    `-d${duration}s`,
    "--timeout",
    "30s",
    "-s",
    join(benchDir, "lua", script),
    `http://127.0.0.1:${PORT}${path}`,
  ], {
    encoding: "utf8",
    env: { ...process.env, BENCH_LUA_DIR: join(benchDir, "lua") },
    timeout: (duration + 60) * 1000,
  });
  console.log(wrk.stdout.split("\n").filter((l) => !l.startsWith("BENCHJSON")).join("\n"));
  server.kill("SIGINT");
  const timer = setTimeout(() => server.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
  const made = readdirSync(outDir).filter((f) => f.endsWith(".cpuprofile") && !before.has(f));
  if (!made.length) throw new Error("no profile written");
  return join(outDir, made[0]);
}

function summarise(file) {
  const prof = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = prof.timeDeltas;
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fnSelf = new Map();
  const fileSelf = new Map();
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    const url = cf.url.startsWith("file:") ? relative(root, fileURLToPath(cf.url)) : cf.url;
    const key = `${cf.functionName || "(anonymous)"} ${url ? `${url}:${cf.lineNumber + 1}` : ""}`.trim();
    fnSelf.set(key, (fnSelf.get(key) ?? 0) + us);
    const group = url.startsWith("lib/") || url.startsWith("bench/")
      ? url
      : url.startsWith("node:")
      ? "node: internals"
      : url
      ? url
      : cf.functionName.startsWith("(")
      ? cf.functionName
      : "(native)";
    fileSelf.set(group, (fileSelf.get(group) ?? 0) + us);
  }
  const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  console.log(`\nprofile: ${relative(root, file)}  (${(total / 1e6).toFixed(1)} s sampled)\n`);
  console.log("self time by file:");
  for (const [k, us] of [...fileSelf].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${k}`);
  console.log(`\ntop ${top} functions by self time:`);
  for (const [k, us] of [...fnSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
}

summarise(value("file") ?? (await profile()));
