// The npm package: scripts/build-npm.mjs turns the TypeScript into
// JavaScript, `npm pack` packs it, `npm install --offline` installs the
// tarball into a temporary project, and its `waitress-serve` bin runs under
// Node (the shebang), npx, bunx and the runtime running this test.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { OPTION_TABLE } from "../lib/option_table.ts";
import { flagSynopsis } from "../lib/cli/help.ts";
import { type ProcessResult as Result, runToEnd, sendSignal } from "./support/process.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");
const NODE = join(BIN, "node");
const BUN = join(BIN, "bun");
const VERSION: string = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).version;
/** npm and the bin's `env node` shebang must find Node 24 (npm's own PATH order does the same). */
const ENV = { ...process.env, PATH: BIN + delimiter + (process.env.PATH ?? ""), NO_COLOR: "1" };

/** Runs a command to completion, bounded, and collects its output. */
function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 60_000): Promise<Result> {
  return runToEnd(cmd, args, { cwd, env: ENV, timeoutMs });
}

/** Starts a server command, reads its first "Serving on" URL, fetches `path`, stops it with SIGTERM. */
function serveOnce(cmd: string, args: readonly string[], cwd: string, path: string): Promise<[string, number | null]> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let body: string | undefined;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`timed out; stderr: ${stderr}`));
    }, 30_000);
    child.stdout!.resume();
    child.stderr!.on("data", async (d) => {
      stderr += d;
      const m = /Serving on (\S+)/.exec(stderr);
      if (!m || body !== undefined) return;
      body = "";
      try {
        body = await (await fetch(m[1] + path)).text();
      } catch (error) {
        body = `fetch failed: ${error}`;
      }
      sendSignal(child, "SIGTERM");
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (body === undefined) reject(new Error(`exited ${code} before serving; stderr: ${stderr}`));
      else resolve([body, code]);
    });
  });
}

/** Builds, packs and installs the package once per test file; every test shares it. */
const PACKAGE_DIR = mkdtempSync(join(tmpdir(), "waitress-npm-"));
after(() => rmSync(PACKAGE_DIR, { recursive: true, force: true }));
const installed: Promise<string> = (async () => {
  const build = await run(
    NODE,
    [join(ROOT, "scripts", "build-npm.mjs"), `--out=${join(PACKAGE_DIR, "pkg")}`, "--pack"],
    ROOT,
  );
  assert.equal(build.code, 0, build.stderr);
  const tarball = build.stdout.trim().split("\n").at(-1)!;
  assert.ok(existsSync(tarball), `no tarball at ${tarball}`);
  const project = join(PACKAGE_DIR, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  writeFileSync(
    join(project, "app.mjs"),
    `export default { fetch: (req) => new Response("npm package serves " + new URL(req.url).pathname) };\n`,
  );
  const install = await run(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", tarball],
    project,
  );
  assert.equal(install.code, 0, install.stderr);
  return project;
})();
// Each test awaits it; this only keeps a failed build from counting as an unhandled rejection.
installed.catch(() => {});

test("package: the tarball holds JavaScript only, with the bin, exports and version", async () => {
  const project = await installed;
  const pkgDir = join(project, "node_modules", "waitress-serve");
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  assert.equal(pkg.version, VERSION);
  assert.equal(pkg.type, "module");
  assert.deepEqual(pkg.bin, { "waitress-serve": "cli.js" });
  assert.equal(pkg.exports["."], "./mod.js");
  assert.equal(pkg.dependencies, undefined);
  assert.ok(readFileSync(join(pkgDir, "cli.js"), "utf8").startsWith("#!/usr/bin/env node\n"));
  for (const file of ["mod.js", "lib/cli/main.js", "lib/server.js", "lib/adjustments.js", "README.md", "LICENSE"]) {
    assert.ok(existsSync(join(pkgDir, file)), file);
  }
  assert.ok(!existsSync(join(pkgDir, "mod.ts")));
  assert.doesNotMatch(readFileSync(join(pkgDir, "lib", "cli", "main.js"), "utf8"), /from "\.{1,2}\/[^"]+\.ts"/);
});

test("package: the installed bin prints --help and --version under Node", async () => {
  const project = await installed;
  const bin = join(project, "node_modules", ".bin", "waitress-serve");
  const help = await run(bin, ["--help"], project);
  assert.equal(help.code, 0, help.stderr);
  for (const spec of Object.values(OPTION_TABLE)) assert.ok(help.stdout.includes(flagSynopsis(spec)), spec.flag);
  const version = await run(bin, ["--version"], project);
  assert.equal(version.stdout, `waitress-serve ${VERSION}\n`);
});

test("package: npx and bun x find the bin", async () => {
  const project = await installed;
  const npx = await run("npx", ["--offline", "waitress-serve", "--version"], project);
  assert.equal(npx.stdout, `waitress-serve ${VERSION}\n`, npx.stderr);
  // Plain `bun x` follows the bin's `env node` shebang; `--bun` runs it on Bun.
  for (const flags of [[], ["--bun"]]) {
    const bunx = await run(BUN, ["x", ...flags, "waitress-serve", "--version"], project);
    assert.equal(bunx.stdout, `waitress-serve ${VERSION}\n`, bunx.stderr);
  }
});

test("package: the library import works from the installed package", async () => {
  const project = await installed;
  const r = await run(
    NODE,
    [
      "--input-type=module",
      "-e",
      `import * as w from "waitress-serve"; console.log(typeof w.serve, Object.keys(w.OPTION_TABLE).length)`,
    ],
    project,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `function ${Object.keys(OPTION_TABLE).length}\n`);
});

test("package: the installed bin serves a real app under Node, and under this runtime", async () => {
  const project = await installed;
  const bin = join(project, "node_modules", ".bin", "waitress-serve");
  const args = ["--listen=127.0.0.1:0", "app.mjs"];
  assert.deepEqual(await serveOnce(bin, args, project, "/node"), ["npm package serves /node", 0]);
  const cli = join(project, "node_modules", "waitress-serve", "cli.js");
  if ("Deno" in globalThis) {
    assert.deepEqual(await serveOnce(process.execPath, ["run", "-A", cli, ...args], project, "/deno"), [
      "npm package serves /deno",
      0,
    ]);
  } else if ("Bun" in globalThis) {
    assert.deepEqual(await serveOnce(BUN, ["x", "--bun", "waitress-serve", ...args], project, "/bun"), [
      "npm package serves /bun",
      0,
    ]);
  }
});
