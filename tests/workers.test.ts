// --workers and --reload through the real CLI: a supervisor that binds once and hands connections
// to worker processes, and gunicorn's signals (TERM, KILL of a worker, HUP, TTIN/TTOU).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { connect } from "node:net";
import { join } from "node:path";
import { roundTrip } from "./support/raw_client.ts";
import { sleep } from "./support/time.ts";
import { alive, type RunningCli, spawnCli } from "./support/cli.ts";
import { steadyLoad, type Target } from "./support/load.ts";

let dir = "";

// Every app answers with the pid of the process that served it.
const PID_APP = `import process from "node:process";
export default () => new Response(String(process.pid));
export const forever = () => new Promise(() => {});
`;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "waitress-workers-"));
  writeFileSync(join(dir, "app.ts"), PID_APP);
  writeFileSync(join(dir, "broken.ts"), `throw new Error("this app does not load (marker 7d1f)");\n`);
});

after(() => rmSync(dir, { recursive: true, force: true }));

function bodyOf(raw: string): string {
  return raw.slice(raw.indexOf("\r\n\r\n") + 4);
}

/** Sends requests on fresh connections until `want` distinct pids answered (at most `max` requests). */
async function pidsSeen(target: Target, want: number, max = 60): Promise<Set<string>> {
  const to = "path" in target ? { path: target.path } : { host: target.host ?? "127.0.0.1", port: target.port };
  const seen = new Set<string>();
  for (let i = 0; i < max && seen.size < want; i++) seen.add(bodyOf(await roundTrip(to)));
  return seen;
}

/** Starts the CLI and waits for its start-up lines: the port (tcp) and the workers' pids. */
async function startWorkers(
  args: string[],
  workers: number,
): Promise<{ cli: RunningCli; port: number; pids: string[] }> {
  const cli = spawnCli(args, dir);
  try {
    const plural = workers === 1 ? "worker serving \\(pid" : "workers serving \\(pids";
    const { match } = await cli.waitFor(new RegExp(`${workers} ${plural} ([\\d, ]+)\\)`));
    const port = Number(cli.stderr().match(/Serving on http:\/\/127\.0\.0\.1:(\d+)/)?.[1] ?? 0);
    return { cli, port, pids: match[1].split(", ") };
  } catch (error) {
    cli.child.kill("SIGKILL");
    throw error;
  }
}

/** SIGTERM, then the exit status; every worker is gone by then. */
async function stopWith0(cli: RunningCli, pids: readonly string[]): Promise<void> {
  cli.signal("SIGTERM");
  const ended = await cli.exited;
  assert.equal(ended.code, 0, cli.stderr());
  for (const pid of pids) assert.equal(alive(Number(pid)), false, `worker ${pid} outlived the supervisor`);
}

async function waitDead(pid: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (alive(Number(pid))) {
    if (Date.now() > deadline) throw new Error(`worker ${pid} still alive after ${ms} ms`);
    await sleep(50);
  }
}

test(
  "workers: two workers answer on each of two TCP listeners (distinct pids, not the supervisor's); SIGTERM ends all, status 0",
  {
    timeout: 60_000,
  },
  async () => {
    const args = ["--workers=2", "--listen=127.0.0.1:0", "--listen=127.0.0.2:0", "app.ts"];
    const { cli, pids } = await startWorkers(args, 2);
    assert.equal(new Set(pids).size, 2, cli.stderr());
    assert.ok(!pids.includes(String(cli.child.pid)), "the supervisor serves nothing itself");
    const listeners = [...cli.stderr().matchAll(/Serving on http:\/\/(127\.0\.0\.[12]):(\d+)/g)];
    assert.deepEqual(listeners.map((m) => m[1]), ["127.0.0.1", "127.0.0.2"], cli.stderr());
    for (const [, host, port] of listeners) {
      assert.deepEqual([...await pidsSeen({ host, port: Number(port) }, 2)].sort(), [...pids].sort());
    }
    await stopWith0(cli, pids);
  },
);

test("workers: a second SIGTERM ends the workers at once, status 1", { timeout: 60_000 }, async () => {
  const { cli, port, pids } = await startWorkers(["--workers=2", "--listen=127.0.0.1:0", "app.ts:forever"], 2);
  // A request that never ends holds its worker in a graceful stop.
  const socket = connect({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  socket.write("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
  await sleep(300);
  cli.signal("SIGTERM");
  await sleep(300);
  assert.equal(cli.child.exitCode, null, "still stopping gracefully");
  cli.signal("SIGTERM");
  assert.equal((await cli.exited).code, 1, cli.stderr());
  for (const pid of pids) await waitDead(pid, 5000);
  socket.destroy();
});

test("workers: two workers over a unix socket; its mode is --unix-socket-perms; removed at the end", {
  timeout: 60_000,
}, async () => {
  const path = join(dir, "w.sock");
  const { cli, pids } = await startWorkers([
    "--workers=2",
    `--unix-socket=${path}`,
    "--unix-socket-perms=660",
    "app.ts",
  ], 2);
  assert.match(cli.stderr(), new RegExp(`Serving on http://unix:${path.replace(/[.]/g, "\\.")}`));
  assert.equal(statSync(path).mode & 0o777, 0o660, "the socket file has --unix-socket-perms");
  assert.deepEqual([...await pidsSeen({ path }, 2)].sort(), [...pids].sort());
  await stopWith0(cli, pids);
  assert.equal(existsSync(path), false, "the socket file is removed");
});

/**
 * Two workers under a steady client; `signal` goes to the first worker, and
 * the load stops once its replacement serves (and, for SIGTERM, it is gone).
 */
async function signalOneWorker(signal: "SIGKILL" | "SIGTERM") {
  const { cli, port, pids } = await startWorkers(["--workers=2", "--listen=127.0.0.1:0", "app.ts"], 2);
  const load = steadyLoad({ port }, { fresh: 2, keepAlive: 2, maxMs: 30_000 });
  await sleep(300);
  const from = cli.stderr().length;
  process.kill(Number(pids[0]), signal);
  const { match } = await cli.waitFor(/Worker (\d+) serving: 2 workers serving/, 20_000, from);
  await waitDead(pids[0]);
  await sleep(300);
  return { cli, port, pids, fresh: match[1], log: cli.stderr().slice(from), report: await load.stop() };
}

test("workers: a worker killed with SIGKILL is replaced; what it held is closed, nothing hangs", {
  timeout: 60_000,
}, async () => {
  const { cli, port, pids, fresh, log, report } = await signalOneWorker("SIGKILL");
  // Only the connections the dead worker had can fail, and they fail at once: none waits for ever.
  for (const failure of report.failures) assert.match(failure, /connection closed before the response/);
  assert.ok(report.failures.length <= 8, report.failures.join("\n"));
  assert.ok(!pids.includes(fresh));
  assert.match(log, new RegExp(`Worker ${pids[0]} was killed by SIGKILL; replacing it`));
  const seen = await pidsSeen({ port }, 2);
  assert.deepEqual([...seen].sort(), [fresh, pids[1]].sort());
  await stopWith0(cli, [fresh, pids[1]]);
});

test("workers: a worker sent SIGTERM is retired and replaced; a steady client sees no failure", {
  timeout: 60_000,
}, async () => {
  const { cli, pids, fresh, log, report } = await signalOneWorker("SIGTERM");
  assert.match(log, new RegExp(`Worker ${pids[0]} was asked to stop; replacing it`));
  assert.deepEqual(report.failures, []);
  assert.ok(report.bodies.has(fresh), "the replacement serves");
  await stopWith0(cli, [pids[1], fresh]);
});

test("workers: SIGHUP under steady fresh and keep-alive clients replaces every worker, no request fails", {
  timeout: 90_000,
}, async () => {
  const { cli, port, pids } = await startWorkers(["--workers=2", "--listen=127.0.0.1:0", "app.ts"], 2);
  const load = steadyLoad({ port }, { fresh: 2, keepAlive: 3, maxMs: 40_000 });
  await sleep(300);
  const from = cli.stderr().length;
  cli.signal("SIGHUP");
  const { match } = await cli.waitFor(/Restarted: 2 workers serving \(pids (\d+), (\d+)\)/, 40_000, from);
  const fresh = [match[1], match[2]];
  for (const pid of pids) await waitDead(pid); // the old ones finished what they had, then left
  await sleep(300);
  const report = await load.stop();
  assert.deepEqual(report.failures, []);
  assert.deepEqual([...report.statuses.keys()], [200]);
  for (const pid of fresh) assert.ok(!pids.includes(pid), "every worker pid changed");
  for (const pid of [...pids, ...fresh]) assert.ok(report.bodies.has(pid), `the load reached worker ${pid}`);
  assert.ok(report.ok > 50, `only ${report.ok} requests`);
  await stopWith0(cli, fresh);
});

test("workers: SIGTTIN adds a worker, SIGTTOU removes one", { timeout: 60_000 }, async () => {
  const { cli, port, pids } = await startWorkers(["--workers=2", "--listen=127.0.0.1:0", "app.ts"], 2);
  let from = cli.stderr().length;
  cli.signal("SIGTTIN");
  const { match } = await cli.waitFor(/Worker (\d+) serving: 3 workers serving/, 20_000, from);
  const three = [...pids, match[1]];
  assert.deepEqual([...await pidsSeen({ port }, 3)].sort(), three.sort());
  from = cli.stderr().length;
  cli.signal("SIGTTOU");
  await cli.waitFor(/Removing a worker: 2 wanted/, 10_000, from);
  const deadline = Date.now() + 10_000;
  while (three.every((pid) => alive(Number(pid))) && Date.now() < deadline) await sleep(50);
  const left = three.filter((pid) => alive(Number(pid)));
  assert.equal(left.length, 2, "one worker retired");
  const seen = await pidsSeen({ port }, 3, 30);
  assert.deepEqual([...seen].sort(), left.sort());
  await stopWith0(cli, left);
});

test("workers: an app that throws at import makes the supervisor exit 1 with that error", {
  timeout: 60_000,
}, async () => {
  const cli = spawnCli(["--workers=2", "--listen=127.0.0.1:0", "broken.ts"], dir);
  const ended = await cli.exited;
  assert.equal(ended.code, 1, cli.stderr());
  assert.match(cli.stderr(), /this app does not load \(marker 7d1f\)/);
  assert.match(cli.stderr(), /before serving; stopping/);
  assert.doesNotMatch(cli.stderr(), /Serving on/);
  // No restart loop: only the two workers it started ever ran.
  assert.ok(cli.stderr().split("marker 7d1f").length - 1 <= 2, cli.stderr());
});

test("workers: --reload restarts after a file changes; a change that does not load keeps the error and waits", {
  timeout: 90_000,
}, async () => {
  const appDir = join(dir, "reloading");
  mkdirSync(join(appDir, "node_modules"), { recursive: true });
  const version = (v: string) =>
    `import process from "node:process";
export default () => new Response("${v} " + process.pid);
`;
  writeFileSync(join(appDir, "app.ts"), version("v1"));
  const cli = spawnCli(["--reload", "--listen=127.0.0.1:0", "app.ts"], appDir);
  try {
    await cli.waitFor(/1 worker serving \(pid (\d+)\)/);
    const port = Number(cli.stderr().match(/Serving on http:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
    const get = async () => bodyOf(await roundTrip({ host: "127.0.0.1", port })).split(" ")[0];
    assert.equal(await get(), "v1", cli.stderr());

    // node_modules is not watched.
    let from = cli.stderr().length;
    writeFileSync(join(appDir, "node_modules", "dep.ts"), "export {};\n");
    await sleep(600);
    assert.doesNotMatch(cli.stderr().slice(from), /reloading/);

    from = cli.stderr().length;
    writeFileSync(join(appDir, "app.ts"), version("v2"));
    await cli.waitFor(/Restarted: 1 worker serving/, 30_000, from);
    assert.equal(await get(), "v2", cli.stderr());

    from = cli.stderr().length;
    writeFileSync(join(appDir, "app.ts"), `throw new Error("half-written (marker 93b2)");\n`);
    await cli.waitFor(/before serving; waiting for a change to reload/, 30_000, from);
    assert.match(cli.stderr().slice(from), /half-written \(marker 93b2\)/);
    assert.equal(await get(), "v2", `the last good version keeps serving; stderr:\n${cli.stderr()}`);

    from = cli.stderr().length;
    writeFileSync(join(appDir, "app.ts"), version("v3"));
    await cli.waitFor(/Restarted: 1 worker serving/, 30_000, from);
    assert.equal(await get(), "v3", cli.stderr());
    cli.signal("SIGTERM");
    assert.equal((await cli.exited).code, 0, cli.stderr());
  } finally {
    cli.child.kill("SIGKILL");
  }
});
