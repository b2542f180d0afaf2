// The waitress-serve command line: argv parsing (in process, every flag),
// app loading, and the real CLI spawned under the runtime running the tests.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { OPTION_TABLE, type OptionName } from "../lib/option_table.ts";
import type { OptionSpec } from "../lib/option_spec.ts";
import { OptionError } from "../lib/option_values.ts";
import { parseCommandLine } from "../lib/cli/args.ts";
import { AppLoadError, UsageError } from "../lib/cli/errors.ts";
import { flagSynopsis, helpText, VERSION } from "../lib/cli/help.ts";
import { loadApp, resolveModule, splitAppSpec } from "../lib/cli/load.ts";
import type { App, ServeInfo } from "../lib/types.ts";
import { CLI, ROOT, type Running, runtimeCommand, startCli, waitForStderr } from "./support/cli.ts";
import { type ProcessResult as Result, runToEnd, sendSignal } from "./support/process.ts";

const TABLE = OPTION_TABLE as Readonly<Record<OptionName, OptionSpec>>;
const NAMES = Object.keys(TABLE) as OptionName[];

/** Runs the CLI to completion (bounded) and collects its output. */
function runCli(args: readonly string[], cwd: string = ROOT, timeoutMs = 20_000): Promise<Result> {
  const [cmd, argv] = runtimeCommand(CLI, args);
  return runToEnd(cmd, argv, { cwd, timeoutMs });
}

const FIXTURES = makeFixtures();
after(() => rmSync(FIXTURES, { recursive: true, force: true }));

/** Writes the apps the tests load into a fresh temporary directory. */
function makeFixtures(): string {
  const dir = mkdtempSync(join(tmpdir(), "waitress-cli-"));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write(
    "app.ts",
    `export default (req: Request): Response => new Response("default " + new URL(req.url).pathname);
export const named = { tag: "bound", fetch(this: { tag: string }): Response { return new Response("named " + this.tag); } };
export const nested = { deep: { app: (): Response => new Response("deep") } };
export const notApp = 42;
export const plainObject = { hello: "world" };
export function factory(): (req: Request) => Response { return () => new Response("sync factory"); }
export async function asyncFactory(): Promise<{ fetch(): Response }> {
  await new Promise((r) => setTimeout(r, 10));
  return { fetch: () => new Response("async factory") };
}
export function badFactory(): never { throw new Error("factory exploded"); }
export function factoryOfJunk(): number { return 7; }
export async function slow(): Promise<Response> {
  console.error("slow request started");
  await new Promise((r) => setTimeout(r, 800));
  return new Response("slow done");
}
export async function forever(): Promise<Response> {
  console.error("forever started");
  await new Promise((r) => setTimeout(r, 30_000));
  return new Response("never");
}
export async function echo(req: Request): Promise<Response> {
  return new Response(req.method + " " + (await req.text()));
}
`,
  );
  write("plain.js", `export const app = () => new Response("plain js");\n`);
  write("myapp/web.ts", `export const app = (): Response => new Response("dotted module");\n`);
  write("pkg/index.ts", `export default { fetch: (): Response => new Response("package index") };\n`);
  write("broken.ts", `throw new Error("module top-level failure");\n`);
  write("nodefault.ts", `export const x = 1;\n`);
  return dir;
}

const INFO: ServeInfo = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
  urlPrefix: "",
  completed: Promise.resolve(),
};

async function answer(app: App, path = "/x"): Promise<string> {
  const handler = typeof app === "function" ? app : app.fetch.bind(app);
  const response = await handler(new Request("http://localhost" + path), INFO);
  return await response.text();
}

// ---------------------------------------------------------------------------
// argv -> options, in process

/** A sample command-line value for an option and what it parses to. */
function sample(name: OptionName): { text: string; value: unknown } {
  const spec = TABLE[name];
  switch (spec.kind) {
    case "integer": {
      const n = (spec.min ?? 0) + 7;
      return { text: String(n), value: n };
    }
    case "octal":
      return { text: "660", value: 0o660 };
    case "list":
      return spec.multiple
        ? { text: "127.0.0.1:9000", value: ["127.0.0.1:9000"] }
        : { text: "x-forwarded-for x-forwarded-proto", value: "x-forwarded-for x-forwarded-proto" };
    default:
      return { text: `value-of-${spec.flag}`, value: `value-of-${spec.flag}` };
  }
}

test("cli: every option in the table parses as --flag=value and --flag value", () => {
  for (const name of NAMES) {
    const spec = TABLE[name];
    if (spec.kind === "boolean") continue;
    const { text, value } = sample(name);
    for (const argv of [[`--${spec.flag}=${text}`, "app.ts"], [`--${spec.flag}`, text, "app.ts"]]) {
      const cl = parseCommandLine(argv);
      assert.deepEqual(cl.options, { [name]: value }, `${argv.join(" ")}`);
      assert.equal(cl.app, "app.ts");
    }
  }
});

test("cli: every boolean option parses as --flag and --no-flag, last one wins", () => {
  for (const name of NAMES) {
    const spec = TABLE[name];
    if (spec.kind !== "boolean") continue;
    assert.deepEqual(parseCommandLine([`--${spec.flag}`, "a.ts"]).options, { [name]: true }, spec.flag);
    assert.deepEqual(parseCommandLine([`--no-${spec.flag}`, "a.ts"]).options, { [name]: false }, spec.flag);
    assert.deepEqual(parseCommandLine([`--no-${spec.flag}`, `--${spec.flag}`, "a.ts"]).options, { [name]: true });
    assert.deepEqual(parseCommandLine([`--${spec.flag}`, `--no-${spec.flag}`, "a.ts"]).options, { [name]: false });
  }
});

test("cli: repeated value options: last wins, --listen accumulates", () => {
  const cl = parseCommandLine([
    "--threads=2",
    "--threads",
    "9",
    "--listen=127.0.0.1:1",
    "--listen",
    "[::1]:2",
    "--listen=*:3",
    "a:b",
  ]);
  assert.deepEqual(cl.options, { threads: 9, listen: ["127.0.0.1:1", "[::1]:2", "*:3"] });
  assert.equal(cl.app, "a:b");
});

test("cli: unambiguous prefixes expand as waitress's getopt does", () => {
  assert.deepEqual(parseCommandLine(["--thr=3", "a.ts"]).options, { threads: 3 });
  assert.deepEqual(parseCommandLine(["--no-ipv6", "--max-request-b", "10", "a.ts"]).options, {
    ipv6: false,
    maxRequestBodySize: 10,
  });
  assert.throws(() => parseCommandLine(["--log", "a.ts"]), (e: Error) => {
    return e instanceof UsageError && /--log is not a unique prefix/.test(e.message);
  });
});

test("cli: values that look like flags are taken, as getopt takes them", () => {
  assert.deepEqual(parseCommandLine(["--url-prefix", "-x", "a.ts"]).options, { urlPrefix: "-x" });
  assert.deepEqual(parseCommandLine(["--ident=", "a.ts"]).options, { ident: "" });
});

test("cli: --app, positional app, --call, and the -- terminator", () => {
  assert.equal(parseCommandLine(["--app=m:o"]).app, "m:o");
  assert.equal(parseCommandLine(["--app", "m:o"]).app, "m:o");
  assert.equal(parseCommandLine(["m:o"]).app, "m:o");
  assert.equal(parseCommandLine(["--", "--odd-name.ts"]).app, "--odd-name.ts");
  assert.equal(parseCommandLine(["--call", "m:o"]).call, true);
  assert.equal(parseCommandLine(["m:o"]).call, false);
  assert.equal(parseCommandLine([]).app, undefined);
});

test("cli: usage errors name the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--bogus", "a.ts"], /^Unknown option --bogus$/],
    [["-x", "a.ts"], /^Unknown option -x$/],
    [["--ipv4=yes", "a.ts"], /--ipv4 takes no value/],
    [["--no-threads", "a.ts"], /Unknown option --no-threads/],
    [["a.ts", "--port"], /--port needs a value/],
    [["a:b", "c:d"], /only one application/],
    [["--app=a:b", "c:d"], /only one application/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(
      () => parseCommandLine(argv),
      (e: Error) => e instanceof UsageError && re.test(e.message),
      argv.join(" "),
    );
  }
});

test("cli: bad values throw OptionError naming the option and what was expected", () => {
  const cases: [string[], string, RegExp][] = [
    [["--threads=abc"], "threads", /--threads.*expected an integer/],
    [["--threads=0"], "threads", /--threads.*at least 1/],
    [["--port=x"], "port", /--port.*integer/],
    [["--unix-socket-perms=999"], "unixSocketPerms", /--unix-socket-perms.*octal/],
  ];
  for (const [argv, option, re] of cases) {
    assert.throws(() => parseCommandLine([...argv, "a.ts"]), (e: Error) => {
      return e instanceof OptionError && e.option === option && re.test(e.message);
    }, argv.join(" "));
  }
});

test("cli: --help and --version win over every other problem", () => {
  assert.equal(parseCommandLine(["--bogus", "--help"]).help, true);
  assert.equal(parseCommandLine(["--threads=abc", "--help", "a", "b"]).help, true);
  assert.equal(parseCommandLine(["--version", "--no-such"]).version, true);
  assert.equal(parseCommandLine(["--he"]).help, true);
  assert.equal(parseCommandLine(["--", "--help"]).help, false);
});

test("cli: help lists every option with its default, grouped Standard/Tuning", () => {
  const help = helpText();
  const standard = help.indexOf("Standard options:");
  const tuning = help.indexOf("Tuning options:");
  assert.ok(standard > 0 && tuning > standard);
  for (const name of NAMES) {
    const spec = TABLE[name];
    const at = help.indexOf(`    ${flagSynopsis(spec)}\n`);
    assert.ok(at > 0, `--help lacks ${flagSynopsis(spec)}`);
    assert.equal(at > tuning, spec.group === "tuning", `${spec.flag} is in the wrong group`);
    const section = help.slice(at, help.indexOf("\n\n", at)).replace(/\s+/g, " ");
    const dflt = spec.defaultText === "" ? "Default: none." : `Default: ${spec.defaultText}.`;
    assert.ok(section.includes(dflt), `${spec.flag}: ${section}`);
    assert.ok(section.includes(spec.help.split(" ").slice(0, 3).join(" ")), `${spec.flag}: ${section}`);
  }
  for (const flag of ["--help", "--version", "--call", "--app=MODULE:OBJECT"]) {
    assert.ok(help.includes(`    ${flag}\n`));
  }
  for (const line of help.split("\n")) assert.ok(line.length <= 79, line);
});

test("cli: the version has one source: deno.json, and package.json agrees", () => {
  const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  assert.equal(VERSION, deno.version);
  assert.equal(pkg.version, deno.version);
});

// ---------------------------------------------------------------------------
// App loading, in process

test("cli: MODULE:OBJECT splits on the last colon, but not inside a scheme or drive", () => {
  assert.deepEqual(splitAppSpec("app.ts:app"), { module: "app.ts", object: "app" });
  assert.deepEqual(splitAppSpec("myapp.web:make.app"), { module: "myapp.web", object: "make.app" });
  assert.deepEqual(splitAppSpec("app.ts"), { module: "app.ts", object: undefined });
  assert.deepEqual(splitAppSpec("jsr:@x/app"), { module: "jsr:@x/app", object: undefined });
  assert.deepEqual(splitAppSpec("npm:hono"), { module: "npm:hono", object: undefined });
  assert.deepEqual(splitAppSpec("jsr:@x/app:handler"), { module: "jsr:@x/app", object: "handler" });
  assert.deepEqual(splitAppSpec("https://h:8080/a.ts"), { module: "https://h:8080/a.ts", object: undefined });
  assert.deepEqual(splitAppSpec("https://h/a.ts:app"), { module: "https://h/a.ts", object: "app" });
  assert.deepEqual(splitAppSpec("C:\\srv\\app.ts"), { module: "C:\\srv\\app.ts", object: undefined });
});

test("cli: modules resolve by path, by dotted name and to a directory's index", () => {
  const url = (p: string) => "file://" + join(FIXTURES, p);
  assert.match(resolveModule("app.ts", FIXTURES), /app\.ts$/);
  assert.equal(resolveModule("./app", FIXTURES).endsWith("/app.ts"), true);
  assert.equal(resolveModule(join(FIXTURES, "plain.js"), "/").endsWith("/plain.js"), true);
  assert.ok(resolveModule("myapp.web", FIXTURES).endsWith("/myapp/web.ts"), url("myapp/web.ts"));
  assert.ok(resolveModule("pkg", FIXTURES).endsWith("/pkg/index.ts"));
  assert.equal(resolveModule("jsr:@x/app", FIXTURES), "jsr:@x/app");
  assert.throws(() => resolveModule("missing.mod", FIXTURES), (e: Error) => {
    return e instanceof AppLoadError && /Cannot find module "missing\.mod"/.test(e.message);
  });
});

test("cli: the default export, named objects, dotted paths and fetch objects load as apps", async () => {
  assert.equal(await answer(await loadApp("app.ts", false, FIXTURES), "/p"), "default /p");
  assert.equal(await answer(await loadApp("app.ts:named", false, FIXTURES)), "named bound");
  assert.equal(await answer(await loadApp("app.ts:nested.deep.app", false, FIXTURES)), "deep");
  assert.equal(await answer(await loadApp("app:named", false, FIXTURES)), "named bound");
  assert.equal(await answer(await loadApp("myapp.web:app", false, FIXTURES)), "dotted module");
  assert.equal(await answer(await loadApp("pkg", false, FIXTURES)), "package index");
  assert.equal(await answer(await loadApp("./plain.js:app", false, FIXTURES)), "plain js");
});

test("cli: --call calls sync and async factories", async () => {
  assert.equal(await answer(await loadApp("app.ts:factory", true, FIXTURES)), "sync factory");
  assert.equal(await answer(await loadApp("app.ts:asyncFactory", true, FIXTURES)), "async factory");
});

test("cli: app loading errors are one line naming what is wrong", async () => {
  const cases: [string, boolean, RegExp][] = [
    ["nosuch.ts", false, /^Cannot find module "nosuch\.ts"/],
    ["broken.ts", false, /^Cannot load module "broken\.ts": module top-level failure$/],
    ["app.ts:missing", false, /^Cannot find "missing" in "app\.ts:missing"$/],
    ["app.ts:nested.nope.x", false, /^Cannot find "nested\.nope" in/],
    ["app.ts:notApp", false, /"app\.ts:notApp" is not an application: .* got a number$/],
    ["app.ts:plainObject", false, /not an application: .* got an object without a fetch method$/],
    ["nodefault.ts", false, /has no default export/],
    ["app.ts:notApp", true, /^Cannot --call "app\.ts:notApp": it is a number, not a function$/],
    ["app.ts:badFactory", true, /^Calling "app\.ts:badFactory" failed: factory exploded$/],
    ["app.ts:factoryOfJunk", true, /result of calling "app\.ts:factoryOfJunk" is not an application/],
  ];
  for (const [spec, call, re] of cases) {
    await assert.rejects(loadApp(spec, call, FIXTURES), (e: Error) => {
      return e instanceof AppLoadError && re.test(e.message) && !e.message.includes("\n");
    }, spec);
  }
});

// ---------------------------------------------------------------------------
// The real CLI, spawned under this runtime

test("cli (spawned): --help on stdout, exit 0; --version", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.equal(help.stderr, "");
  assert.equal(help.stdout, helpText());
  for (const name of NAMES) assert.ok(help.stdout.includes(flagSynopsis(TABLE[name])));
  const version = await runCli(["--bogus", "--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout, `waitress-serve ${VERSION}\n`);
});

test("cli (spawned): errors are one line on stderr with exit status 1", async () => {
  const cases: [string[], RegExp][] = [
    [["--bogus", "app.ts"], /^Error: Unknown option --bogus\n$/],
    [["--threads=abc", "app.ts"], /^Error: Invalid value for threads \(--threads\): expected an integer, got "abc"\n$/],
    [
      ["--port=1", "--listen=127.0.0.1:2", "app.ts"],
      /^Error: listen \(--listen\) cannot be combined with host \(--host\) or port \(--port\)\n$/,
    ],
    [[], /^Error: Specify an application/],
    [["app.ts:a", "app.ts:b"], /^Error: Provide only one application/],
    [["nosuch.mod:app"], /^Error: Cannot find module "nosuch\.mod"/],
    [["broken.ts"], /^Error: Cannot load module "broken\.ts": module top-level failure\n$/],
    [["app.ts:missing"], /^Error: Cannot find "missing" in "app\.ts:missing"\n$/],
    [["app.ts:notApp"], /^Error: "app\.ts:notApp" is not an application/],
  ];
  await Promise.all(cases.map(async ([argv, re]) => {
    const r = await runCli(argv, FIXTURES);
    assert.equal(r.code, 1, `${argv.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, argv.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.equal(r.stdout, "");
  }));
});

/** Stops a running CLI with SIGTERM and checks it exits 0. */
async function stop(running: Running): Promise<void> {
  sendSignal(running.child, "SIGTERM");
  const { code } = await running.exited;
  assert.equal(code, 0, running.stderr());
}

test("cli (spawned): serves the default export on 127.0.0.1:0 and exits 0 on SIGTERM", async () => {
  const running = await startCli(["--listen=127.0.0.1:0", "app.ts"], FIXTURES);
  try {
    assert.match(running.urls[0], /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(!running.urls[0].endsWith(":0"));
    const response = await fetch(running.urls[0] + "/hello?x=1");
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "default /hello");
  } finally {
    await stop(running);
  }
});

test("cli (spawned): flags reach the server (ident, url prefix, dotted module, two listeners)", async () => {
  const running = await startCli(
    ["--listen", "127.0.0.1:0", "--listen=127.0.0.1:0", "--ident=cli-test", "--url-prefix=/mnt", "myapp.web:app"],
    FIXTURES,
    2,
  );
  try {
    assert.equal(running.urls.length, 2);
    const response = await fetch(running.urls[1] + "/mnt/x");
    assert.equal(response.headers.get("server"), "cli-test");
    assert.equal(await response.text(), "dotted module");
  } finally {
    await stop(running);
  }
});

test("cli (spawned): --call with an async factory, and a Hono app from examples/", async () => {
  const factory = await startCli(["--call", "--listen=127.0.0.1:0", "app.ts:asyncFactory"], FIXTURES);
  try {
    assert.equal(await (await fetch(factory.urls[0])).text(), "async factory");
  } finally {
    await stop(factory);
  }
  const hono = await startCli(["--listen=127.0.0.1:0", "examples/hono.ts"], ROOT);
  try {
    assert.deepEqual(await (await fetch(hono.urls[0] + "/users/7")).json(), { id: "7" });
  } finally {
    await stop(hono);
  }
});

test("cli (spawned): SIGTERM drains an in-flight slow request, then exits 0", async () => {
  const running = await startCli(["--listen=127.0.0.1:0", "app.ts:slow"], FIXTURES);
  const pending = fetch(running.urls[0]).then(async (r) => [r.status, await r.text()]);
  await waitForStderr(running, "slow request started");
  sendSignal(running.child, "SIGTERM");
  assert.deepEqual(await pending, [200, "slow done"]);
  const { code } = await running.exited;
  assert.equal(code, 0, running.stderr());
});

test("cli (spawned): a second signal exits at once with status 1", async () => {
  const running = await startCli(["--listen=127.0.0.1:0", "app.ts:forever"], FIXTURES);
  const pending = fetch(running.urls[0]).catch(() => "connection lost");
  await waitForStderr(running, "forever started");
  const started = Date.now();
  sendSignal(running.child, "SIGTERM");
  await new Promise((r) => setTimeout(r, 200));
  sendSignal(running.child, "SIGINT");
  const { code } = await running.exited;
  assert.equal(code, 1, running.stderr());
  assert.ok(Date.now() - started < 10_000);
  await pending;
});

test("cli (spawned): deno run mod.ts / node mod.ts runs the CLI when mod.ts is the main module", async () => {
  const [cmd, argv] = runtimeCommand(join(ROOT, "mod.ts"), ["--version"]);
  const r = await new Promise<Result>((resolve) => {
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `waitress-serve ${VERSION}\n`);
});

test("cli (spawned): an address already in use is one line on stderr and exit status 1", async () => {
  const { createServer } = await import("node:net");
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = await runCli([`--listen=127.0.0.1:${port}`, "app.ts"], FIXTURES);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^Error: .+\n$/);
    assert.doesNotMatch(r.stderr, /Serving on/);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test("cli (spawned): a unix socket prints http://unix:PATH and serves there", async () => {
  const { createConnection } = await import("node:net");
  const path = join(FIXTURES, `s${process.pid}.sock`);
  const running = await startCli([`--unix-socket=${path}`, "app.ts"], FIXTURES);
  try {
    assert.equal(running.urls[0], `http://unix:${path}`);
    const raw = await new Promise<string>((resolve, reject) => {
      let data = "";
      const socket = createConnection(
        { path },
        () => socket.write("GET /u HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      );
      socket.setEncoding("utf8");
      socket.on("data", (d) => (data += d));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
      setTimeout(() => socket.destroy(new Error(`timed out: ${data}`)), 10_000).unref();
    });
    assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(raw.endsWith("\r\n\r\ndefault /u"), raw);
  } finally {
    await stop(running);
  }
});

test("cli (spawned): an IPv6 listener is printed bracketed", async () => {
  const { networkInterfaces } = await import("node:os");
  const hasLoopback6 = Object.values(networkInterfaces()).flat().some((i) => i?.address === "::1");
  if (!hasLoopback6) return; // no ::1 here: nothing to check (kept portable across the runtimes' node:test)
  const running = await startCli(["--listen=[::1]:0", "app.ts"], FIXTURES);
  try {
    assert.match(running.urls[0], /^http:\/\/\[::1\]:\d+$/);
    assert.equal(await (await fetch(running.urls[0] + "/six")).text(), "default /six");
  } finally {
    await stop(running);
  }
});

test("cli: every example in examples/ loads and answers", async () => {
  assert.match(
    await answer(await loadApp("examples/hello.ts", false, ROOT), "/hi"),
    /^Hello from waitress[^\n]*\n\nGET \/hi\n/,
  );
  const counter = await loadApp("examples.fetch-object", false, ROOT);
  assert.equal(await answer(counter, "/count"), '{"hits":1}');
  assert.equal(await answer(counter, "/count"), '{"hits":2}');
  assert.equal(await answer(await loadApp("examples/hono.ts", false, ROOT), "/users/3"), '{"id":"3"}');
  assert.match(await answer(await loadApp("examples/factory.ts:createApp", true, ROOT), "/f"), /^\w+, \/f\n$/);
  assert.match(await answer(await loadApp("examples/factory.ts:createAppAsync", true, ROOT)), /^up since /);
});
