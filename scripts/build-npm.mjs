#!/usr/bin/env node
// Builds the npm package (`npx waitress-serve`, `bunx waitress-serve`):
// Node refuses to strip types under node_modules, so every .ts of mod.ts,
// cli.ts and lib/ becomes .js with Node 24's own stripTypeScriptTypes (no
// new dependency), relative `.ts` imports become `.js`, TypeScript (a dev
// dependency) writes a .d.ts next to each, and a package.json with the
// `waitress-serve` bin and `types` in its exports is written next to them.
//
//   node scripts/build-npm.mjs [--out=dist/npm] [--pack]
//
// --pack also runs `npm pack` and prints the tarball's path as the last line.
// Plain JavaScript so that it runs before anything is built.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const outArg = args.find((a) => a.startsWith("--out="));
const out = resolve(root, outArg ? outArg.slice(6) : "dist/npm");
const pack = args.includes("--pack");

const nodeModule = await import("node:module");
if (typeof nodeModule.stripTypeScriptTypes !== "function") {
  console.error(
    `build-npm: Node ${process.version} lacks module.stripTypeScriptTypes; use Node 24 (npm run build:npm)`,
  );
  process.exit(2);
}

// stripTypeScriptTypes warns that it is experimental, once per process; the
// build's output is checked by tests/package.test.ts, so keep the log quiet.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  if (String(warning).includes("stripTypeScriptTypes")) return;
  emitWarning.call(process, warning, ...rest);
};

/** The sources that make up the package: mod.ts, cli.ts, hono.ts and every .ts under lib/. */
function sources() {
  const files = ["mod.ts", "cli.ts", "hono.ts"];
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(path);
    }
  };
  walk("lib");
  return files.sort();
}

/**
 * Rewrites the specifiers of static imports, re-exports and dynamic imports:
 * relative `.ts` to `.js`, and the version's `../deno.json` to the package's
 * own package.json (which carries the same version).
 */
function rewriteSpecifiers(code) {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']+)\2/g,
    (_match, lead, quote, spec) => {
      let next = spec.replace(/\.ts$/, ".js");
      if (/(^|\/)deno\.json$/.test(next)) next = next.replace(/deno\.json$/, "package.json");
      return `${lead}${quote}${next}${quote}`;
    },
  );
}

/** Turns one TypeScript module into JavaScript. */
function compile(file) {
  const source = readFileSync(join(root, file), "utf8");
  // A shebang is not TypeScript; take it off and put Node's on cli.js.
  const body = source.startsWith("#!") ? source.slice(source.indexOf("\n") + 1) : source;
  let code = nodeModule.stripTypeScriptTypes(body, { mode: "strip", sourceUrl: file });
  code = rewriteSpecifiers(code);
  // "strip" mode blanks types out with spaces, keeping positions; drop the trailing blanks.
  code = code.replace(/[ \t]+$/gm, "");
  if (file === "cli.ts") code = "#!/usr/bin/env node\n" + code;
  return code;
}

/**
 * Writes a .d.ts for every module reachable from mod.ts, cli.ts and hono.ts, with the
 * same specifier rewriting as the JavaScript. `noCheck`: the sources are
 * checked by `deno check` (with Deno's own types); here only the declarations
 * are wanted, and their exports are explicitly typed, so none depends on
 * inference that needs a check. tests/package.test.ts type-checks them, with
 * skipLibCheck off, from a consumer project.
 */
function declarations() {
  let ts;
  try {
    ts = createRequire(import.meta.url)("typescript");
  } catch {
    console.error("build-npm: the typescript dev dependency is missing; run npm install");
    process.exit(2);
  }
  const options = {
    declaration: true,
    emitDeclarationOnly: true,
    noCheck: true,
    allowImportingTsExtensions: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    strict: true,
    skipLibCheck: true,
    types: ["node"],
    rootDir: root,
    outDir: out,
  };
  const program = ts.createProgram([join(root, "mod.ts"), join(root, "cli.ts"), join(root, "hono.ts")], options);
  const written = [];
  const result = program.emit(undefined, (file, text) => {
    // A shebang has no place in a declaration file.
    const body = text.startsWith("#!") ? text.slice(text.indexOf("\n") + 1) : text;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, rewriteSpecifiers(body));
    written.push(file);
  });
  const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  // (emitSkipped is always true with emitDeclarationOnly: no JavaScript is emitted.)
  if (errors.length > 0) {
    console.error(ts.formatDiagnostics(errors, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => root,
      getNewLine: () => "\n",
    }));
    process.exit(1);
  }
  return written;
}

const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const rootPkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

rmSync(out, { recursive: true, force: true });
const written = [];
for (const file of sources()) {
  const target = join(out, file.replace(/\.ts$/, ".js"));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, compile(file));
  written.push(relative(out, target));
}
chmodSync(join(out, "cli.js"), 0o755);
const typed = declarations();
// One declaration per module, or a consumer's import of some module has no types.
const untyped = written.filter((js) => !typed.includes(join(out, js.replace(/\.js$/, ".d.ts"))));
if (untyped.length > 0) {
  console.error(`build-npm: no declaration written for ${untyped.join(", ")}`);
  process.exit(1);
}
for (const extra of ["README.md", "LICENSE"]) copyFileSync(join(root, extra), join(out, extra));

const pkg = {
  name: rootPkg.name,
  version: deno.version,
  description: rootPkg.description,
  license: deno.license,
  type: "module",
  bin: { "waitress-serve": "cli.js" },
  main: "./mod.js",
  types: "./mod.d.ts",
  exports: {
    ".": { types: "./mod.d.ts", default: "./mod.js" },
    "./cli": { types: "./cli.d.ts", default: "./cli.js" },
    "./hono": { types: "./hono.d.ts", default: "./hono.js" },
    "./package.json": "./package.json",
  },
  files: ["mod.js", "mod.d.ts", "cli.js", "cli.d.ts", "hono.js", "hono.d.ts", "lib/", "README.md", "LICENSE"],
  // Only the ./hono sub-path needs Hono (its own defineWebSocketHelper); the rest has no dependency.
  peerDependencies: { hono: "^4.7.0" },
  peerDependenciesMeta: { hono: { optional: true } },
  engines: { node: ">=22.12" },
  keywords: ["http", "server", "waitress", "fetch", "deno", "bun", "node", "wsgi"],
};
writeFileSync(join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
console.log(`build-npm: ${written.length} modules, ${typed.length} declarations -> ${relative(root, out) || "."}`);

if (pack) {
  // --json gives the tarball's name without parsing npm's human output.
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const json = execFileSync(npm, ["pack", "--json", "--pack-destination", dirname(out)], {
    cwd: out,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [{ filename }] = JSON.parse(json);
  console.log(join(dirname(out), filename));
}
