// The programs the benchmark drives (wrk, python3 with waitress, taskset), installed with apt-get when missing
// and we are root, and the machine and versions a run records.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { bin, log, root } from "./common.mjs";

function have(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function findPython() {
  for (const py of ["/usr/bin/python3", "python3", "python"]) {
    const r = spawnSync(py, ["-c", "import waitress"], { stdio: "ignore" });
    if (r.status === 0) return py;
  }
  return null;
}

export function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 20_000 });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0] ?? "";
}

/** Installs wrk and python3-waitress with apt-get when they are missing and we are root. */
export function ensureTools() {
  let python = findPython();
  const missing = [];
  if (!have("wrk")) missing.push("wrk");
  if (!python) missing.push("python3-waitress");
  if (missing.length) {
    if (process.getuid?.() === 0 && have("apt-get")) {
      log(`installing ${missing.join(" ")} with apt-get`);
      const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
      let r = spawnSync("apt-get", ["install", "-y", ...missing], { stdio: "inherit", env, timeout: 600_000 });
      if (r.status !== 0) {
        spawnSync("apt-get", ["update"], { stdio: "inherit", env, timeout: 600_000 });
        r = spawnSync("apt-get", ["install", "-y", ...missing], { stdio: "inherit", env, timeout: 600_000 });
      }
      python = findPython();
    } else {
      log(`missing ${missing.join(" ")}; install them (apt-get install -y ${missing.join(" ")})`);
    }
  }
  if (!have("wrk")) {
    log("wrk is required");
    process.exit(2);
  }
  if (!have("taskset")) log("taskset not found: server and client will not be pinned to cores");
  return { python, taskset: have("taskset") };
}

export function pinned(core, cmd, args, tools) {
  return tools.taskset ? ["taskset", ["-c", core, cmd, ...args]] : [cmd, args];
}

export function machineInfo(tools) {
  const cpuinfo = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  const cpu = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown";
  const pkgVersion = (name) => {
    try {
      return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
    } catch {
      return null;
    }
  };
  const head = firstLine("git", ["-C", root, "rev-parse", "--short", "HEAD"]);
  const dirty = spawnSync("git", ["-C", root, "status", "--porcelain", "--", "lib", "mod.ts"], { encoding: "utf8" })
    .stdout?.trim();
  return {
    commit: head + (dirty ? " (engine files with uncommitted changes)" : ""),
    nproc: firstLine("nproc", []) || String(os.cpus().length),
    cpu,
    kernel: firstLine("uname", ["-r"]),
    os: firstLine("sh", ["-c", ". /etc/os-release 2>/dev/null && echo $PRETTY_NAME"]),
    versions: {
      node: firstLine(bin("node"), ["--version"]),
      deno: firstLine(bin("deno"), ["--version"]),
      bun: firstLine(bin("bun"), ["--version"]),
      "@hono/node-server": pkgVersion("@hono/node-server"),
      hono: pkgVersion("hono"),
      python: tools.python ? firstLine(tools.python, ["--version"]) : null,
      waitress: tools.python
        ? firstLine(tools.python, ["-c", "import importlib.metadata as m; print(m.version('waitress'))"])
        : null,
      wrk: firstLine("wrk", ["-v"]),
      runner: process.version,
    },
  };
}
