// The scenarios (idle connections, hello world, pipelined, latency, uploads, a streamed response), one round of
// each with wrk or the idle client, and a scenario's samples summarised.
import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { benchDir, children, CLIENT_CORE, HOST, median, MiB, root, SERVER_CORE, UPLOAD_BYTES } from "./common.mjs";
import { config } from "./options.mjs";
import { coreTimes, foreignPct, procTicks, readRssKiB, settledRssKiB } from "./proc.mjs";
import { startTarget, stopTarget } from "./targets.mjs";
import { pinned } from "./tools.mjs";

export const SCENARIOS = [
  {
    id: "idle",
    title: `Idle keep-alive connections: RSS per connection`,
    kind: "idle",
    unit: "KiB/conn",
    better: "lower",
  },
  { id: "hello", title: "Hello world, 50 connections", kind: "wrk", conns: 50, script: "hello.lua", unit: "req/s" },
  {
    id: "https",
    title: "HTTPS hello world, 50 keep-alive connections, not pipelined",
    kind: "wrk",
    conns: 50,
    script: "hello.lua",
    unit: "req/s",
  },
  {
    id: "pipeline",
    title: "Hello world, 50 connections, 16 pipelined requests each",
    kind: "wrk",
    conns: 50,
    script: "pipeline.lua",
    unit: "req/s",
  },
  {
    id: "lat1",
    title: "Hello world, 1 connection (latency)",
    kind: "wrk",
    conns: 1,
    script: "hello.lua",
    unit: "req/s",
    latency: true,
  },
  {
    id: "lat256",
    title: "Hello world, 256 connections (latency)",
    kind: "wrk",
    conns: 256,
    script: "hello.lua",
    unit: "req/s",
    latency: true,
  },
  {
    id: "upload",
    title: "1 MiB POST bodies, 8 connections",
    kind: "wrk",
    conns: 8,
    script: "upload.lua",
    unit: "MiB/s",
    mibps: (s) => (s.requests * UPLOAD_BYTES) / MiB / (s.duration_us / 1e6),
  },
  {
    id: "stream",
    title: "Streamed response (64 KiB chunks), 1 connection",
    kind: "wrk",
    conns: 1,
    script: "hello.lua",
    path: () => `/stream?mib=${config.streamMiB}`,
    timeout: "30s",
    unit: "MiB/s",
    mibps: (s) => s.bytes / MiB / (s.duration_us / 1e6),
  },
];

export function runWrk(t, sc, seconds, tools) {
  const path = sc.path ? sc.path() : "/";
  const args = [
    "-t1",
    `-c${sc.conns}`,
    `-d${seconds}s`,
    "--timeout",
    sc.timeout ?? "5s",
    "-s",
    join(benchDir, "lua", sc.script),
    `${t.tls ? "https" : "http"}://${HOST}:${t.port}${path}`,
  ];
  const [cmd, cargs] = pinned(t.cores ?? CLIENT_CORE, "wrk", args, tools);
  const cpuBefore = coreTimes();
  const serverBefore = procTicks(t.pid);
  return new Promise((resolve) => {
    const child = spawn(cmd, cargs, {
      cwd: root,
      env: {
        ...process.env,
        BENCH_LUA_DIR: join(benchDir, "lua"),
        PIPELINE_DEPTH: String(config.pipelineDepth),
        UPLOAD_BYTES: String(UPLOAD_BYTES),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), (seconds + 45) * 1000);
    let wrkTicks = 0;
    // The server's peak RSS while uploads arrive (issue 13: no worse than the native server's + 25%).
    let peakRssKiB = NaN;
    const samplePeak = () => {
      try {
        const rss = readRssKiB(t.pid);
        if (Number.isFinite(rss) && !(rss <= peakRssKiB)) peakRssKiB = rss;
      } catch { /* the server is gone: the round fails anyway */ }
    };
    if (sc.id === "upload") samplePeak();
    const poll = setInterval(() => {
      const ticks = procTicks(child.pid);
      if (Number.isFinite(ticks)) wrkTicks = ticks;
      if (sc.id === "upload") samplePeak();
    }, 100);
    child.on("close", () => {
      clearTimeout(timer);
      clearInterval(poll);
      children.delete(child);
      const cpuAfter = coreTimes();
      const serverTicks = procTicks(t.pid) - serverBefore;
      // Other processes' share of a core is only known when server and wrk each have their own.
      const noise = tools.taskset && t.cores === undefined
        ? Math.max(
          foreignPct(cpuBefore, cpuAfter, SERVER_CORE, serverTicks) ?? 0,
          foreignPct(cpuBefore, cpuAfter, CLIENT_CORE, wrkTicks) ?? 0,
        )
        : null;
      const line = out.split("\n").find((l) => l.startsWith("BENCHJSON "));
      if (!line) return resolve({ error: `wrk failed: ${out.trim().slice(-300)}` });
      const s = JSON.parse(line.slice(10));
      const e = s.errors;
      const errors = e.connect + e.read + e.write + e.status + e.timeout;
      const secs = s.duration_us / 1e6;
      resolve({
        rps: s.requests / secs,
        mibps: sc.mibps ? sc.mibps(s) : undefined,
        p50_ms: s.latency_us.p50 / 1000,
        p99_ms: s.latency_us.p99 / 1000,
        requests: s.requests,
        errors,
        errorDetail: errors ? e : undefined,
        noisePct: noise,
        peakRssKiB: Number.isFinite(peakRssKiB) ? peakRssKiB : undefined,
      });
    });
  });
}

/**
 * One idle-connection measurement on a fresh server process (a long-running
 * one would reuse memory freed by earlier load and report almost nothing):
 * start, warm up with one connection, measure.
 */
export async function idleRound(t, tools) {
  const fresh = { id: t.id, cmd: t.cmd, port: t.port + 100 };
  await startTarget(fresh, tools, { sanity: false });
  try {
    if (!fresh.ok) return { error: `fresh instance failed: ${fresh.error}` };
    const warm = Math.max(1, config.warmupS);
    await runWrk(fresh, SCENARIOS.find((s) => s.id === "lat1"), warm, tools);
    const s = await runIdle(fresh, tools);
    if (fresh.exited) s.error = `server died (${fresh.exited}): ${fresh.log.slice(-300)}`;
    return s;
  } finally {
    await stopTarget(fresh);
  }
}

/** Opens config.idleConnections keep-alive connections; returns KiB of server RSS per connection. */
export async function runIdle(t, tools) {
  const before = await settledRssKiB(t.pid);
  const [cmd, args] = pinned(
    CLIENT_CORE,
    process.execPath,
    [join(benchDir, "idle-client.mjs"), HOST, String(t.port), String(config.idleConnections)],
    tools,
  );
  const child = spawn(cmd, args, { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  const lines = [];
  let waiter = null;
  let buf = "";
  let errText = "";
  child.stderr.on("data", (d) => (errText += d));
  child.stdout.on("data", (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      waiter?.();
    }
  });
  const exited = new Promise((r) => child.on("close", r));
  const nextLine = async (ms) => {
    const deadline = Date.now() + ms;
    while (!lines.length && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => {
        waiter = r;
        setTimeout(r, 200);
      });
    }
    return lines.length ? JSON.parse(lines.shift()) : null;
  };
  try {
    const ready = await nextLine(90_000);
    if (!ready) return { error: `idle client failed: ${errText.slice(-300)}` };
    const after = await settledRssKiB(t.pid);
    child.stdin.write("check\n");
    const check = await nextLine(10_000);
    return {
      kibPerConn: ready.ready ? (after - before) / ready.ready : NaN,
      rssBeforeKiB: before,
      rssAfterKiB: after,
      opened: ready.ready,
      failed: ready.failed,
      alive: check?.alive,
      errors: ready.failed + (ready.ready - (check?.alive ?? 0)),
    };
  } finally {
    child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    children.delete(child);
    await sleep(500); // let the server notice the closes before the next target
  }
}

export function summarise(sc, samples) {
  const ok = samples.filter((s) => !s.error);
  const key = sc.kind === "idle" ? "kibPerConn" : sc.mibps ? "mibps" : "rps";
  const vals = ok.map((s) => s[key]);
  const out = {
    metric: key,
    unit: sc.unit,
    median: median(vals),
    min: Math.min(...vals),
    max: Math.max(...vals),
    errors: ok.reduce((a, s) => a + (s.errors ?? 0), 0),
    failedRounds: samples.length - ok.length,
    maxNoisePct: sc.kind === "idle" ? null : Math.max(...ok.map((s) => s.noisePct ?? 0)),
    samples,
  };
  if (sc.latency) {
    out.p50_ms = median(ok.map((s) => s.p50_ms));
    out.p99_ms = median(ok.map((s) => s.p99_ms));
    out.p99_ms_min = Math.min(...ok.map((s) => s.p99_ms));
    out.p99_ms_max = Math.max(...ok.map((s) => s.p99_ms));
  }
  return out;
}
