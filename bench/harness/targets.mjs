// The servers measured (ours on each runtime, the native servers, @hono/node-server, Python waitress) and the
// bounds (floors, ours with bodies in memory): how each is started, checked and stopped.
import { spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { bin, BOTH_CORES, children, HOST, log, MiB, root, SERVER_CORE, UPLOAD_BYTES } from "./common.mjs";
import { list } from "./options.mjs";
import { NATIVE_TLS, secureTargets } from "./secure.mjs";
import { pinned } from "./tools.mjs";

/** One HTTP request with node:http (node:https for a TLS target); resolves { status, bytes, text }. */
export function request(port, method, path, body, tls = false) {
  return new Promise((resolve, reject) => {
    const options = { host: HOST, port, method, path, agent: false, timeout: 30_000, rejectUnauthorized: false };
    const req = (tls ? https : http).request(options, (res) => {
      let bytes = 0;
      const parts = [];
      res.on("data", (d) => {
        bytes += d.length;
        if (parts.length < 4) parts.push(d);
      });
      res.on(
        "end",
        () => resolve({ status: res.statusCode, bytes, text: Buffer.concat(parts).toString("latin1").slice(0, 200) }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

export function targetList(tools) {
  const node = bin("node"), deno = bin("deno"), bun = bin("bun");
  const s = (f) => join("bench", "servers", f);
  const all = [
    { id: "ours-node", label: "ours on Node", runtime: "node", ours: true, cmd: [node, s("ours.ts")] },
    { id: "ours-deno", label: "ours on Deno", runtime: "deno", ours: true, cmd: [deno, "run", "-A", s("ours.ts")] },
    { id: "ours-bun", label: "ours on Bun", runtime: "bun", ours: true, cmd: [bun, s("ours.ts")] },
    { id: "node-http", label: "node:http", runtime: "node", cmd: [node, s("node-http.mjs")] },
    { id: "hono-node", label: "@hono/node-server", runtime: "node", cmd: [node, s("hono-node.mjs")] },
    { id: "deno-serve", label: "Deno.serve", runtime: "deno", cmd: [deno, "run", "-A", s("deno-serve.ts")] },
    { id: "bun-serve", label: "Bun.serve", runtime: "bun", cmd: [bun, s("bun-serve.ts")] },
    { id: "waitress", label: "Python waitress", runtime: "python", cmd: [tools.python, s("waitress_app.py")] },
    // Bounds, not competitors. The floors find requests without parsing them and do no HTTP work, over the
    // socket API ours uses: the socket floor drops bodies and sends canned answers (hello world and uploads;
    // not pipelined, where all of them saturate wrk); the copy floor also copies each upload into one fresh
    // array; the Fetch floor answers with the app's Response read through its body stream. Then ours with
    // request bodies kept in memory as the native servers keep them, instead of waitress's spill to a file.
    ...floorTargets(
      [["node", [node, s("raw-net.mjs")]], ["deno", [deno, "run", "-A", s("raw-net.mjs")]], [
        "bun",
        [bun, s("raw-bun.ts")],
      ]],
    ),
    ...[["node", [node]], ["deno", [deno, "run", "-A"]], ["bun", [bun]]].map(([rt, run]) => ({
      id: `inmem-${rt}`,
      label: `ours on ${rt}, bodies kept in memory (inbufOverflow 4 MiB)`,
      runtime: rt,
      bound: "inmem",
      scenarios: ["upload"],
      env: { BENCH_INBUF_OVERFLOW: String(4 * MiB) },
      cmd: [...run, s("ours.ts")],
    })),
    // Ours with the app answering `GET /` with a FastResponse instead of a standard Response (issue 13's
    // "FastResponse >= the native server" target): what the engine costs without the body stream.
    ...[["node", [node]], ["deno", [deno, "run", "-A"]], ["bun", [bun]]].map(([rt, run]) => ({
      id: `fast-${rt}`,
      label: `ours on ${rt}, the app answering with FastResponse`,
      runtime: rt,
      bound: "fast",
      scenarios: ["hello"],
      env: { BENCH_FAST: "1" },
      cmd: [...run, s("ours.ts")],
    })),
    // One worker against two (--workers, through supervise()). Server and wrk share both cores, unpinned, so
    // wrk's own share of the cores is taken from the workers: see bench/README.md.
    ...[["node", [node]], ["deno", [deno, "run", "-A"]], ["bun", [bun]]].flatMap(([rt, run]) =>
      [1, 2].map((n) => ({
        id: `w${n}-${rt}`,
        label: `ours on ${rt}, ${n === 1 ? "one process" : `${n} workers`} (server and wrk on both cores)`,
        runtime: rt,
        bound: "workers",
        cores: BOTH_CORES,
        scenarios: ["hello", "pipeline"],
        env: { BENCH_WORKERS: String(n) },
        cmd: [...run, s("ours-workers.ts")],
      }))
    ),
    ...secureTargets(),
  ];
  const wanted = list("targets");
  // Each of ours runs right before its native server (then the bounds for that runtime), so that a round's
  // pair of samples is taken seconds apart and the paired ratios below see the same state of the machine
  // (ours with the access log on comes right after, to pair with ours with it off).
  const bounds = (
    rt,
  ) => [`fast-${rt}`, `raw-${rt}`, `keep-${rt}`, `fetch-${rt}`, `inmem-${rt}`, `w1-${rt}`, `w2-${rt}`];
  const order = [
    "ours-node",
    "node-http",
    "log-node",
    ...bounds("node"),
    "hono-node",
    "ours-deno",
    "deno-serve",
    "log-deno",
    ...bounds("deno"),
    "ours-bun",
    "bun-serve",
    "log-bun",
    ...bounds("bun"),
    "waitress",
    ...["node", "deno", "bun"].flatMap((rt) => [`tls-ours-${rt}`, NATIVE_TLS[rt], `tls-raw-${rt}`]),
  ];
  all.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  return all
    .filter((t) => !wanted || wanted.includes(t.id))
    .filter((t) => {
      if (t.cmd[0]) return true;
      log(`skipping ${t.id}: python3 with waitress not found`);
      return false;
    })
    .map((t, i) => ({ ...t, port: 18080 + i }));
}

/** The three floors on each runtime, over the socket API ours uses there (see raw-common.ts). */
function floorTargets(commands) {
  const floors = [
    ["raw", "drop", "socket floor", "canned answers, body bytes dropped", RAW_SCENARIOS],
    ["keep", "keep", "copy floor", "canned answers, each body copied into one fresh array", ["upload"]],
    ["fetch", "fetch", "Fetch floor", "the app's Response read through its body stream", ["hello", "lat256"]],
  ];
  return floors.flatMap(([prefix, mode, name, what, scenarios]) =>
    commands.map(([rt, cmd]) => ({
      id: `${prefix}-${rt}`,
      label: `${name} on ${rt} (${rt === "bun" ? "Bun.listen" : "node:net"}: ${what})`,
      runtime: rt,
      bound: prefix,
      scenarios,
      env: { FLOOR: mode },
      cmd,
    }))
  );
}

export const NATIVE = { node: "node-http", deno: "deno-serve", bun: "bun-serve" };
/** Scenarios the socket-floor servers (which answer `GET /` and `POST /upload` only) take part in. */
export const RAW_SCENARIOS = ["hello", "lat1", "lat256", "upload"];

/** True when target `t` takes part in scenario `id` (bound targets run only where they say something). */
export function runsIn(t, id) {
  if (id === "https" && !t.tls) return false;
  return !t.scenarios || t.scenarios.includes(id);
}

export async function startTarget(t, tools, { sanity = true } = {}) {
  const [cmd, args] = pinned(t.cores ?? SERVER_CORE, t.cmd[0], t.cmd.slice(1), tools);
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, ...t.env, PORT: String(t.port), NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  t.child = child;
  t.pid = child.pid;
  t.log = "";
  const keep = (d) => {
    t.log = (t.log + d).slice(-4000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.on("exit", (code, signal) => {
    children.delete(child);
    t.exited = `exit ${code ?? signal}`;
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !t.exited) {
    try {
      const r = await request(t.port, "GET", "/", undefined, t.tls);
      if (r.status === 200) break;
    } catch { /* not up yet */ }
    await sleep(100);
  }
  // Sanity: the three routes answer what the scenarios expect.
  try {
    if (t.exited) throw new Error(t.exited);
    if (!sanity || (t.bound && t.bound !== "inmem")) {
      const hello = await request(t.port, "GET", "/", undefined, t.tls);
      if (hello.status !== 200) throw new Error(`GET / -> ${hello.status}`);
      t.ok = true;
      return;
    }
    const hello = await request(t.port, "GET", "/", undefined, t.tls);
    if (hello.status !== 200 || hello.text !== "Hello World") throw new Error(`GET / -> ${hello.status} ${hello.text}`);
    const up = await request(t.port, "POST", "/upload", Buffer.alloc(UPLOAD_BYTES, 120), t.tls);
    if (up.status !== 200 || up.text !== String(UPLOAD_BYTES)) {
      throw new Error(`POST /upload -> ${up.status} ${up.text}`);
    }
    const st = await request(t.port, "GET", "/stream?mib=1", undefined, t.tls);
    if (st.status !== 200 || st.bytes !== MiB) throw new Error(`GET /stream?mib=1 -> ${st.status}, ${st.bytes} bytes`);
    t.ok = true;
  } catch (e) {
    t.ok = false;
    t.error = String(e?.message ?? e);
    log(`${t.id} unavailable: ${t.error}\n${t.log.trim().split("\n").slice(-8).join("\n")}`);
    await stopTarget(t);
  }
}

export async function stopTarget(t) {
  const c = t.child;
  if (!c || t.exited) return;
  c.kill("SIGTERM");
  for (let i = 0; i < 30 && !t.exited; i++) await sleep(100);
  if (!t.exited) c.kill("SIGKILL");
}
