#!/usr/bin/env node
// Runs the whole suite on Node 24, Deno and Bun (the runtimes npm installed
// into node_modules/.bin), plus the static checks (deno check, lint, fmt,
// publish dry run), and prints one closing line: `N passed, N failed`.
//
// Plain JavaScript so that it runs on whatever Node started `npm test`.
//
//   npm test                       everything
//   npm test -- --runtime=node     one runtime (repeatable), no static checks
//   npm test -- tests/parser.test.ts   only these files
//
// Each runtime runs with TMPDIR set to a fresh directory; a `waitress-*` entry left in it fails the run.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const args = process.argv.slice(2);
const runtimes = args.filter((a) => a.startsWith("--runtime=")).map((a) => a.slice(10));
const files = args.filter((a) => !a.startsWith("--"));
const selected = runtimes.length ? runtimes : ["node", "deno", "bun"];
const testFiles = files.length
  ? files
  : readdirSync(join(root, "tests")).filter((f) => f.endsWith(".test.ts")).sort().map((f) => join("tests", f));
const TIMEOUT_MS = 20 * 60 * 1000;

for (const name of ["node", "deno", "bun"]) {
  if (!existsSync(bin(name))) {
    console.error(`missing ${bin(name)}: run npm install first`);
    process.exit(2);
  }
}

/**
 * Debian packages some tests drive as real peers (nginx in front of the server, python3-websockets as an independent
 * WebSocket client, openssl for test certificates), keyed by the file that shows each is there. Installed when missing
 * and we may (root with apt-get), so that a fresh machine runs the same suite; otherwise those tests say what is missing.
 */
const DEBIAN_PACKAGES = {
  "nginx-light": "/usr/sbin/nginx",
  "python3-websockets": "/usr/lib/python3/dist-packages/websockets/__init__.py",
  openssl: "/usr/bin/openssl",
};

function ensureDebianPackages() {
  const missing = Object.entries(DEBIAN_PACKAGES).filter(([, file]) => !existsSync(file)).map(([name]) => name);
  if (!missing.length) return;
  const canInstall = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
  if (!canInstall) {
    console.warn(`[test.mjs] missing Debian packages (install them to run every test): ${missing.join(" ")}`);
    return;
  }
  console.log(`[test.mjs] installing Debian packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const opts = { stdio: "inherit", env };
  spawnSync("apt-get", ["update", "-qq"], opts);
  const result = spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], opts);
  if (result.status !== 0) console.warn(`[test.mjs] apt-get install exited ${result.status}`);
}

ensureDebianPackages();

/** Runs a command, streaming its output, and returns { code, output }. */
function run(cmd, argv, extraEnv = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const timer = setTimeout(() => {
      output += `\n[test.mjs] ${cmd} timed out after ${TIMEOUT_MS} ms\n`;
      child.kill("SIGKILL");
    }, TIMEOUT_MS);
    const take = (stream, sink) =>
      stream.on("data", (d) => {
        output += d;
        sink.write(d);
      });
    take(child.stdout, process.stdout);
    take(child.stderr, process.stderr);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}

// deno-lint-ignore no-control-regex -- ANSI colour codes are control characters by definition
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");
const num = (re, text) => {
  const m = strip(text).match(re);
  return m ? Number(m[1]) : NaN;
};

/** Each runtime's own runner, and how to read its counts. */
const RUNNERS = {
  node: {
    argv: ["--test", "--test-timeout=120000", "--test-reporter=spec", ...testFiles],
    counts: (out) => ({ passed: num(/^ℹ pass (\d+)/m, out), failed: num(/^ℹ fail (\d+)/m, out) }),
  },
  deno: {
    argv: ["test", "-A", "--no-check", ...testFiles],
    counts: (out) => {
      const m = strip(out).match(
        /^(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/m,
      );
      return m ? { passed: Number(m[1]), failed: Number(m[3]) } : { passed: NaN, failed: NaN };
    },
  },
  bun: {
    argv: ["test", "--timeout", "120000", ...testFiles.map((f) => "./" + f)],
    counts: (out) => ({ passed: num(/^\s*(\d+) pass$/m, out), failed: num(/^\s*(\d+) fail$/m, out) }),
  },
};

const summary = [];
let passed = 0;
let failed = 0;

for (const name of selected) {
  const runner = RUNNERS[name];
  console.log(`\n=== ${name}: ${testFiles.length} test files ===`);
  // A fresh TMPDIR per runtime, so that a temporary file or directory a test leaves behind shows (and fails the run).
  const tmp = mkdtempSync(join(tmpdir(), "test-tmp-"));
  const { code, output } = await run(bin(name), runner.argv, { WAITRESS_TEST_RUNTIME: name, TMPDIR: tmp });
  const left = readdirSync(tmp).filter((entry) => entry.startsWith("waitress-"));
  rmSync(tmp, { recursive: true, force: true });
  let { passed: p, failed: f } = runner.counts(output);
  if (Number.isNaN(p)) p = 0;
  if (Number.isNaN(f)) f = 0;
  // A runner that crashed or exited non-zero without counting a failure still fails.
  if (code !== 0 && f === 0) f = 1;
  if (left.length) f += 1;
  const leftNote = left.length ? `; left in TMPDIR: ${left.join(", ")}` : "";
  summary.push(`${name}: ${p} passed, ${f} failed (exit ${code}${leftNote})`);
  passed += p;
  failed += f;
}

if (!runtimes.length && !files.length) {
  const deno = bin("deno");
  const checks = [
    // Tests, examples, the benchmark and scripts too: they are the public API as its users type it.
    ["deno check", [deno, "check", "mod.ts", "cli.ts", "tests/", "examples/", "bench/", "scripts/"]],
    ["deno lint", [deno, "lint"]],
    ["deno fmt --check", [deno, "fmt", "--check"]],
    ["deno publish --dry-run", [deno, "publish", "--dry-run", "--allow-dirty"]],
  ];
  for (const [label, [cmd, ...argv]] of checks) {
    console.log(`\n=== ${label} ===`);
    const { code } = await run(cmd, argv);
    summary.push(`${label}: ${code === 0 ? "ok" : `FAILED (exit ${code})`}`);
    if (code === 0) passed++;
    else failed++;
  }
}

console.log("\n=== summary ===");
for (const line of summary) console.log(line);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
