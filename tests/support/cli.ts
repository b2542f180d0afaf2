/**
 * The real `waitress-serve` spawned under the runtime running the tests:
 * `startCli` waits for its "Serving on" lines; `spawnCli` is for tests that
 * watch it over time (the supervisor's): its stderr is kept and can be
 * waited on, a pattern at a time. Every wait is bounded, and the process is
 * killed after a minute and a half, or when the test process exits.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository's root and its CLI entry point. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI: string = join(ROOT, "cli.ts");

/** The runtime running this file, and how to make it run a script. */
export function runtimeCommand(script: string, args: readonly string[]): [string, string[]] {
  if ("Deno" in globalThis) return [process.execPath, ["run", "-A", script, ...args]];
  return [process.execPath, [script, ...args]];
}

/** A running CLI: the child, the URLs it serves, its stderr so far, and its exit. */
export interface Running {
  child: ChildProcess;
  urls: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Starts the CLI serving and waits for its "Serving on" lines (bounded). */
export function startCli(args: readonly string[], cwd: string, listeners = 1, timeoutMs = 20_000): Promise<Running> {
  const [cmd, argv] = runtimeCommand(CLI, args);
  const child = spawn(cmd, argv, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  reapOnExit(child);
  let stderr = "";
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal }))
  );
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  exited.then(() => clearTimeout(killer));
  child.stdout!.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no "Serving on" line within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stderr!.on("data", (d) => {
      stderr += d;
      const urls = [...stderr.matchAll(/Serving on (\S+)/g)].map((m) => m[1]);
      if (urls.length >= listeners) {
        clearTimeout(timer);
        resolve({ child, urls, stderr: () => stderr, exited });
      }
    });
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited (${code}) before serving; stderr: ${stderr}`));
    });
  });
}

/** Waits until the child's stderr contains `text` (bounded). */
export async function waitForStderr(running: Running, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!running.stderr().includes(text)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** How a process ended. */
export interface Ended {
  code: number | null;
  signal: string | null;
}

/** A running CLI. */
export interface RunningCli {
  child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Settles when it has exited. */
  exited: Promise<Ended>;
  /**
   * Waits until stderr, from character `from` on, matches `pattern`; returns
   * the match and where it ends. Throws after `ms` or if the process exits first.
   */
  waitFor(pattern: RegExp, ms?: number, from?: number): Promise<{ match: RegExpMatchArray; end: number }>;
  /** Sends a signal by pid (Deno's ChildProcess.kill hides the real exit status). */
  signal(name: NodeJS.Signals): void;
}

/** CLIs still running; killed when the test process exits, so a failed test leaves no supervisor behind. */
const running = new Set<ChildProcess>();
let reaperInstalled = false;

function reapOnExit(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
  if (reaperInstalled) return;
  reaperInstalled = true;
  // A supervisor killed outright takes its workers with it: they see the IPC channel close and stop.
  process.once("exit", () => {
    for (const c of running) c.kill("SIGKILL");
  });
}

/** Starts `waitress-serve args` in `cwd`. */
export function spawnCli(args: readonly string[], cwd: string): RunningCli {
  const [cmd, argv] = runtimeCommand(CLI, args);
  const child = spawn(cmd, argv, { cwd, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  reapOnExit(child);
  let stderr = "";
  let wake: (() => void)[] = [];
  const notify = (): void => {
    const waiting = wake;
    wake = [];
    for (const f of waiting) f();
  };
  child.stderr!.on("data", (d) => {
    stderr += d;
    notify();
  });
  let done = false;
  const exited = new Promise<Ended>((resolve) =>
    child.on("close", (code, signal) => {
      done = true;
      notify();
      resolve({ code, signal });
    })
  );
  const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  void exited.then(() => clearTimeout(killer));
  const waitFor = async (pattern: RegExp, ms = 20_000, from = 0) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = stderr.slice(from).match(pattern);
      if (match) return { match, end: from + match.index! + match[0].length };
      if (done) throw new Error(`exited before ${pattern}; stderr:\n${stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${pattern} within ${ms} ms; stderr:\n${stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  return {
    child,
    stderr: () => stderr,
    exited,
    waitFor,
    signal(name) {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, name);
    },
  };
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
