// The npm package: scripts/build-npm.mjs turns the TypeScript into
// JavaScript and declarations, `npm pack` packs it, `npm install --offline`
// installs the tarball into a temporary project (no network: a tarball with
// no dependencies needs nothing from the cache), `tsc --strict` type-checks
// a consumer file against it, and its `waitress-serve` bin runs under Node
// (the shebang), npx, bunx and the runtime running this test. The temporary
// directory is removed when the file's tests are done.
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
const BUNX = join(BIN, "bunx");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const VERSION: string = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")).version;
/**
 * npm and the bin's `env node` shebang must find Node 24 (npm's own PATH order does the same). npm would
 * otherwise leave a compile cache in the temporary directory.
 */
const ENV = {
  ...process.env,
  PATH: BIN + delimiter + (process.env.PATH ?? ""),
  NO_COLOR: "1",
  NODE_DISABLE_COMPILE_CACHE: "1",
};

/** Runs a command to completion, bounded, and collects its output. */
function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 60_000): Promise<Result> {
  return runToEnd(cmd, args, { cwd, env: ENV, timeoutMs });
}

/**
 * Starts a server command, reads its first "Serving on" URL, fetches `path`,
 * stops it with SIGTERM. With `group`, the command runs in a process group of
 * its own and the whole group gets the signal, as a terminal's Ctrl-C does: a
 * launcher (npm exec) that does not pass the signal on then cannot leave the
 * server running.
 */
function serveOnce(
  cmd: string,
  args: readonly string[],
  cwd: string,
  path: string,
  group = false,
): Promise<[string, number | string | null]> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: ENV, stdio: ["ignore", "pipe", "pipe"], detached: group });
    const stop = () => group ? process.kill(-child.pid!, "SIGTERM") : sendSignal(child, "SIGTERM");
    let stderr = "";
    let body: string | undefined;
    const timer = setTimeout(() => {
      if (group) process.kill(-child.pid!, "SIGKILL");
      else child.kill("SIGKILL");
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
      stop();
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (body === undefined) reject(new Error(`exited ${code ?? signal} before serving; stderr: ${stderr}`));
      else resolve([body, code ?? signal]);
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

test("package: the tarball holds JavaScript and declarations, no TypeScript sources, with the bin, exports and version", async () => {
  const project = await installed;
  const pkgDir = join(project, "node_modules", "waitress-serve");
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  assert.equal(pkg.version, VERSION);
  assert.equal(pkg.type, "module");
  assert.deepEqual(pkg.bin, { "waitress-serve": "cli.js" });
  assert.deepEqual(pkg.exports["."], { types: "./mod.d.ts", default: "./mod.js" });
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

test("package: the installed bin serves a real app under Node, npx, bunx --bun, and this runtime", async () => {
  const project = await installed;
  const bin = join(project, "node_modules", ".bin", "waitress-serve");
  const args = ["--listen=127.0.0.1:0", "app.mjs"];
  assert.deepEqual(await serveOnce(bin, args, project, "/node"), ["npm package serves /node", 0]);
  // npm exec does not pass a SIGTERM on to the server: the group gets it, and
  // npm dies of it (or, on some versions, exits 143). "close" came, so the
  // server is gone too (it held the same stderr pipe).
  const [npxBody, npxCode] = await serveOnce("npx", ["--offline", "waitress-serve", ...args], project, "/npx", true);
  assert.equal(npxBody, "npm package serves /npx");
  assert.ok([0, 143, "SIGTERM"].includes(npxCode!), `npx exited ${npxCode}`);
  assert.deepEqual(await serveOnce(BUNX, ["--bun", "waitress-serve", ...args], project, "/bunx"), [
    "npm package serves /bunx",
    0,
  ]);
  if ("Deno" in globalThis) {
    const cli = join(project, "node_modules", "waitress-serve", "cli.js");
    assert.deepEqual(await serveOnce(process.execPath, ["run", "-A", cli, ...args], project, "/deno"), [
      "npm package serves /deno",
      0,
    ]);
  }
});

/** A consumer of the typed package; the @ts-expect-error lines fail the check if the types were `any`. */
const CONSUMER = `import { FastResponse, OptionError, serve, type ServeInfo, type ServeOptions } from "waitress-serve";

const options: ServeOptions = { listen: "127.0.0.1:0", threads: 2, channelTimeout: 30 };
const server = serve((request: Request, info: ServeInfo) => {
  const path: string = new URL(request.url).pathname;
  return new FastResponse(\`\${path} from \${info.remoteAddr.hostname}\`, { headers: { "content-type": "text/plain" } });
}, { ...options, onListen: (addrs) => console.log(addrs.map((a) => a.url).join(" ")) });
await server.ready;
const port: number = server.addrs[0].port;
const { connections }: { connections: number } = server.stats();
console.log(port, connections, new OptionError("threads", "bad").option);
await server.shutdown();

// @ts-expect-error: threads is a number
const wrongType: ServeOptions = { threads: "4" };
// @ts-expect-error: no such option
const unknown: ServeOptions = { thread: 4 };
// @ts-expect-error: a handler returns a Response
serve(() => "text");
export { unknown, wrongType };
`;

test("package: its declarations type-check a consumer under tsc --strict", async () => {
  const project = await installed;
  const pkgDir = join(project, "node_modules", "waitress-serve");
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  assert.deepEqual(pkg.exports["."], { types: "./mod.d.ts", default: "./mod.js" });
  assert.equal(pkg.types, "./mod.d.ts");
  for (const file of ["mod.d.ts", "cli.d.ts", "lib/types.d.ts", "lib/adjustments.d.ts", "lib/response.d.ts"]) {
    assert.ok(existsSync(join(pkgDir, file)), file);
  }
  assert.doesNotMatch(readFileSync(join(pkgDir, "lib", "types.d.ts"), "utf8"), /from "\.{1,2}\/[^"]+\.ts"/);
  writeFileSync(join(project, "consumer.ts"), CONSUMER);
  const strict = { strict: true, noEmit: true, target: "es2023", skipLibCheck: false };
  // Node's module resolution with Node's types (@types/node: a Node consumer installs it) ...
  const typeRoots = [join(ROOT, "node_modules", "@types")];
  const node = { module: "nodenext", typeRoots, types: ["node"] };
  // ... and a bundler's, with only the DOM's types.
  const dom = { module: "esnext", moduleResolution: "bundler", lib: ["es2023", "dom"], types: [] };
  for (const [name, options] of Object.entries({ node, dom })) {
    const config = `tsconfig.${name}.json`;
    writeFileSync(
      join(project, config),
      JSON.stringify({ compilerOptions: { ...strict, ...options }, files: ["consumer.ts"] }),
    );
    const r = await run(NODE, [TSC, "-p", config], project);
    assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
  }
  // The check can fail: a wrong use of the package is an error.
  writeFileSync(
    join(project, "wrong.ts"),
    `import { serve } from "waitress-serve";\nserve(() => new Response(), { threads: "4" });\n`,
  );
  const wrongConfig = { compilerOptions: { ...strict, ...dom }, files: ["wrong.ts"] };
  writeFileSync(join(project, "tsconfig.wrong.json"), JSON.stringify(wrongConfig));
  const wrong = await run(NODE, [TSC, "-p", "tsconfig.wrong.json"], project);
  assert.equal(wrong.code, 2, wrong.stdout);
  assert.match(wrong.stdout, /wrong\.ts\(2,\d+\): error TS2322/);
});
