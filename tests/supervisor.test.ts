// The supervisor as a library: supervise() and isWorker() from a program that calls serve() itself,
// what it refuses before starting any worker, and --reload's tree watcher.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OptionError, serve, supervise } from "../mod.ts";
import { watchTree } from "../lib/supervisor/watch.ts";
import { roundTrip } from "./support/raw_client.ts";
import { sleep } from "./support/time.ts";
import { alive, ROOT, runtimeCommand } from "./support/cli.ts";
import { spawn } from "node:child_process";

let dir = "";
before(() => dir = mkdtempSync(join(tmpdir(), "waitress-supervisor-")));
after(() => rmSync(dir, { recursive: true, force: true }));

test("supervise(): a program that calls serve() itself runs two workers (the README's pattern)", {
  timeout: 60_000,
}, async () => {
  const program = join(dir, "program.ts");
  writeFileSync(
    program,
    `import process from "node:process";
import { isWorker, serve, supervise } from ${JSON.stringify(join(ROOT, "mod.ts"))};
const options = { listen: "127.0.0.1:0", threads: 2 };
if (isWorker()) {
  serve(() => new Response(String(process.pid)), options);
} else {
  process.exit(await supervise({ workers: 2, options, onServing: (urls, summary) => console.error("UP", urls[0], summary) }));
}
`,
  );
  const [cmd, args] = runtimeCommand(program, []);
  const child = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const killer = setTimeout(() => child.kill("SIGKILL"), 50_000);
  let stderr = "";
  child.stderr!.on("data", (d) => stderr += d);
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  try {
    const deadline = Date.now() + 30_000;
    while (!/UP http:\/\/127\.0\.0\.1:\d+ 2 workers serving/.test(stderr) && Date.now() < deadline) await sleep(50);
    const [, port, a, b] = stderr.match(/UP http:\/\/127\.0\.0\.1:(\d+) 2 workers serving \(pids (\d+), (\d+)\)/) ??
      assert.fail(stderr);
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const raw = await roundTrip({ host: "127.0.0.1", port: Number(port) });
      seen.add(raw.slice(raw.indexOf("\r\n\r\n") + 4));
    }
    assert.deepEqual([...seen].sort(), [a, b].sort());
    process.kill(child.pid!, "SIGTERM");
    assert.equal(await exited, 0, stderr);
    assert.equal(alive(Number(a)) || alive(Number(b)), false, "the workers are gone");
  } finally {
    clearTimeout(killer);
    child.kill("SIGKILL");
  }
});

test("supervise(): a bad option or an address in use rejects before any worker starts", async () => {
  await assert.rejects(supervise({ workers: 2, options: { threads: 0 } }), OptionError);
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    // A script that does not exist: had a worker been started, it would have failed differently.
    const attempt = supervise({ workers: 2, options: { listen: `127.0.0.1:${port}` }, script: join(dir, "none.ts") });
    await assert.rejects(attempt, (error: Error) => {
      assert.match(error.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
      return true;
    });
  } finally {
    taken.close();
  }
});

test("serve() runs in one process: workers above 1 and reload point to supervise()", () => {
  assert.throws(() => serve(() => new Response(""), { workers: 2 }), (error: OptionError) => {
    assert.equal(error.option, "workers");
    assert.match(error.message, /supervise\(\)/);
    return true;
  });
  assert.throws(
    () => serve(() => new Response(""), { reload: true }),
    (error: OptionError) => error.option === "reload",
  );
});

test("watchTree: one call per burst of changes, new directories followed, node_modules and dot-directories not", {
  timeout: 20_000,
}, async () => {
  const root = join(dir, "tree");
  mkdirSync(join(root, "src", "deep"), { recursive: true });
  mkdirSync(join(root, "node_modules", "pkg"), { recursive: true });
  mkdirSync(join(root, ".git"), { recursive: true });
  const calls: string[] = [];
  const watch = watchTree(root, (path) => calls.push(path));
  try {
    await sleep(100);
    writeFileSync(join(root, "node_modules", "pkg", "index.js"), "1");
    writeFileSync(join(root, ".git", "HEAD"), "1");
    await sleep(500);
    assert.equal(calls.length, 0, `skipped trees are not watched, got ${JSON.stringify(calls)}`);

    for (let i = 0; i < 5; i++) writeFileSync(join(root, "src", "deep", "a.ts"), String(i));
    await waitUntil(() => calls.length > 0, 5000);
    await sleep(400);
    assert.equal(calls.length, 1, `one call for a burst, got ${JSON.stringify(calls)}`);
    assert.equal(calls[0], join(root, "src", "deep", "a.ts"));

    mkdirSync(join(root, "src", "later"));
    await waitUntil(() => calls.length > 1, 5000);
    await sleep(400);
    writeFileSync(join(root, "src", "later", "b.ts"), "1");
    await waitUntil(() => calls.includes(join(root, "src", "later", "b.ts")), 5000);
  } finally {
    watch.close();
  }
});

async function waitUntil(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await sleep(20);
  }
}
